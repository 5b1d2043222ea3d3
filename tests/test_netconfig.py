"""The build machine's conda network settings: condarc layers, CONDA_* variables, #!final, and
channel names to URLs, as conda resolves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgconda.errors import UsageError
from orgconda.netconfig import (
    NetSettings,
    channel_urls,
    load_settings,
    resolve_channels,
    search_path,
)


def rc(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, env: dict[str, str], root_prefix: Path | None = None) -> NetSettings:
    system = [str(tmp_path / "etc")]
    return load_settings(env, home=tmp_path / "home", system_dirs=system, root_prefix=root_prefix)


def test_search_path_order_follows_conda(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"XDG_CONFIG_HOME": "/xdg", "CONDA_PREFIX": "/active", "CONDARC": "/explicit.yml"}
    paths = [
        p.as_posix()
        for p in search_path(
            env, home=home, root_prefix=Path("/ctor"), on_win=False, system_dirs=["/etc/conda"]
        )
    ]
    h = home.as_posix()
    assert paths == [
        "/etc/conda/.condarc",
        "/etc/conda/condarc",
        "/etc/conda/condarc.d",
        "/ctor/.condarc",
        "/ctor/condarc",
        "/ctor/condarc.d",
        "/xdg/conda/.condarc",
        "/xdg/conda/condarc",
        "/xdg/conda/condarc.d",
        f"{h}/.config/conda/.condarc",
        f"{h}/.config/conda/condarc",
        f"{h}/.config/conda/condarc.d",
        f"{h}/.conda/.condarc",
        f"{h}/.conda/condarc",
        f"{h}/.conda/condarc.d",
        f"{h}/.condarc",
        "/active/.condarc",
        "/active/condarc",
        "/active/condarc.d",
        "/explicit.yml",
    ]


def test_defaults_with_nothing_configured(tmp_path: Path) -> None:
    s = load(tmp_path, {})
    assert s.proxies == {} and s.ssl_verify is True and s.ca_bundle is None
    assert s.offline is False and s.describe() == []
    assert channel_urls("conda-forge", s) == ["https://conda.anaconda.org/conda-forge"]


def test_user_condarc_proxy_and_ca_bundle(tmp_path: Path) -> None:
    ca = rc(tmp_path / "corp-ca.pem", "-----BEGIN CERTIFICATE-----\n")
    rc(
        tmp_path / "home" / ".condarc",
        f"proxy_servers:\n  http: http://proxy.corp:3128\n  https: http://proxy.corp:3129\n"
        f"  no_proxy: localhost,.corp\nssl_verify: {ca}\n",
    )
    s = load(tmp_path, {})
    assert s.proxies == {"http": "http://proxy.corp:3128", "https": "http://proxy.corp:3129"}
    assert s.no_proxy == ("localhost", ".corp")
    assert s.ssl_verify == str(ca) and s.ca_bundle == str(ca)
    assert any(str(tmp_path / "home" / ".condarc") in line for line in s.describe())


def test_layers_merge_proxy_maps_and_later_files_win(tmp_path: Path) -> None:
    rc(
        tmp_path / "etc" / ".condarc",
        "proxy_servers:\n  http: http://sys:1\n  https: http://sys:2\n",
    )
    rc(tmp_path / "home" / ".condarc", "proxy_servers:\n  https: http://user:2\nssl_verify: no\n")
    s = load(tmp_path, {})
    assert s.proxies == {"http": "http://sys:1", "https": "http://user:2"}
    assert s.ssl_verify is False


def test_final_marker_beats_later_files_and_environment(tmp_path: Path) -> None:
    rc(tmp_path / "etc" / ".condarc", "ssl_verify: truststore #!final\n")
    rc(tmp_path / "home" / ".condarc", "ssl_verify: false\n")
    s = load(tmp_path, {"CONDA_SSL_VERIFY": "false"})
    assert s.ssl_verify == "truststore"


def test_environment_beats_files_and_env_ca_bundle(tmp_path: Path) -> None:
    rc(tmp_path / "home" / ".condarc", "ssl_verify: false\nchannel_alias: https://files\n")
    s = load(tmp_path, {"CONDA_SSL_VERIFY": "true", "CONDA_CHANNEL_ALIAS": "https://mirror"})
    assert s.ssl_verify is True and s.channel_alias == "https://mirror"
    bundle = rc(tmp_path / "bundle.pem", "x")
    s = load(tmp_path, {"CONDA_SSL_VERIFY": "yes", "REQUESTS_CA_BUNDLE": str(bundle)})
    assert s.ca_bundle == str(bundle) and s.origins["ca_bundle"] == "$REQUESTS_CA_BUNDLE"


def test_condarc_d_files_and_root_prefix(tmp_path: Path) -> None:
    rc(tmp_path / "ctor" / "condarc.d" / "10-proxy.yml", "proxy_servers:\n  https: http://a:1\n")
    rc(tmp_path / "ctor" / "condarc.d" / "20-proxy.yaml", "proxy_servers:\n  https: http://b:1\n")
    s = load(tmp_path, {}, root_prefix=tmp_path / "ctor")
    assert s.proxies == {"https": "http://b:1"}


def test_variables_in_values_are_expanded(tmp_path: Path) -> None:
    rc(tmp_path / "home" / ".condarc", "proxy_servers:\n  https: http://${PROXY_HOST}:8080\n")
    assert load(tmp_path, {"PROXY_HOST": "gw"}).proxies == {"https": "http://gw:8080"}


def test_missing_ca_path_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = rc(tmp_path / "home" / ".condarc", "ssl_verify: /no/such/ca.pem\n")
    with pytest.raises(UsageError) as err:
        load(tmp_path, {})
    assert str(path) in str(err.value) and "/no/such/ca.pem" in str(err.value)


def test_broken_condarc_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = rc(tmp_path / "home" / ".condarc", "proxy_servers: [unclosed\n")
    with pytest.raises(UsageError, match=str(path)):
        load(tmp_path, {})


def test_client_certificates_are_reported_as_not_honoured(tmp_path: Path) -> None:
    rc(tmp_path / "home" / ".condarc", "client_ssl_cert: /x/cert.pem\n")
    s = load(tmp_path, {})
    assert s.unsupported == ("client_ssl_cert",)
    assert "client_ssl_cert: not honoured by orgconda's downloads" in s.describe()


def test_channel_names_become_urls_like_conda(tmp_path: Path) -> None:
    rc(
        tmp_path / "home" / ".condarc",
        "channel_alias: https://conda.mirror.corp\n"
        "custom_channels:\n  internal: https://artifacts.corp/conda\n"
        "default_channels:\n  - https://repo.corp/main\n  - r-mirror\n",
    )
    s = load(tmp_path, {})
    assert resolve_channels(
        ["conda-forge", "internal/label/dev", "defaults", "https://x.example/ch/", "conda-forge"],
        s,
    ) == [
        "https://conda.mirror.corp/conda-forge",
        "https://artifacts.corp/conda/internal/label/dev",
        "https://repo.corp/main",
        "https://conda.mirror.corp/r-mirror",
        "https://x.example/ch",
    ]
    local = tmp_path / "channel"
    local.mkdir()
    assert channel_urls(str(local), s) == [local.resolve().as_uri()]


def test_remote_max_retries(tmp_path: Path) -> None:
    rc(tmp_path / "home" / ".condarc", "remote_max_retries: 5\n")
    assert load(tmp_path, {}).max_retries == 5
    assert load(tmp_path, {"CONDA_REMOTE_MAX_RETRIES": "0"}).max_retries == 0
