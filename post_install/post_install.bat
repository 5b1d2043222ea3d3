@echo off
rem orgconda post-install hook for Windows .exe installers made by constructor (NSIS).
rem
rem Writes the system tokens that anaconda-anon-usage reads, one token per file:
rem   .installer_token  from ORGCONDA_INSTALLER_TOKEN (script_env_variables)
rem   org_token         from ORGCONDA_ORG_TOKEN       (script_env_variables)
rem   machine_token     from ORGCONDA_MACHINE_TOKEN in the installing environment if set, else
rem                     the valid machine_token already in the token folder (a reinstall keeps
rem                     the identity), else 22 URL-safe base64 characters from a CSPRNG:
rem                     PowerShell's System.Security.Cryptography.RandomNumberGenerator, or else
rem                     the installed Python's secrets module (never RANDOM)
rem into PREFIX (ORGCONDA_TOKEN_SCOPE=prefix, the default) or ProgramData\conda (system;
rem anaconda-anon-usage reads the literal C:/ProgramData/conda; ORGCONDA_SYSTEM_TOKEN_DIR
rem replaces the directory, for tests and unusual layouts). An All Users install also seeds
rem PREFIX\etc\aau_token, so the e/ token works for users who cannot write the prefix.
rem With a bundled CA certificate (ORGCONDA_CA_FILE=etc/orgconda/<file>, set by builds without
rem the configuration package) it writes PREFIX\condarc.d\orgconda-ca.yml, which points conda's
rem ssl_verify at the file by its absolute path (conda refuses a path with variables in it).
rem Last it records what it did in PREFIX\etc\orgconda\install.json (never the machine token).
rem Each token file holds the token and CRLF (aau_token: no line end), ASCII, no BOM, and every
rem file is written to a temporary file in the same directory and moved into place.
rem
rem What this file relies on in constructor's NSIS installer (read in conda/constructor
rem 3.16.3: constructor/nsis/main.nsi.tmpl; pull requests 1069 and 1108):
rem  - pre_install.bat runs as cmd.exe /D /C PREFIX\pkgs\pre_install.bat after the package
rem    cache is extracted and before the packages are linked. post_install.bat runs the same
rem    way after linking. Older releases ran it through _nsis.py, which dropped its exit code
rem    unless NSIS_SCRIPTS_RAISE_ERRORS was set in the installing environment.
rem  - The command runs under nsExec::ExecToLog, so all it prints, stdout and stderr, lands in
rem    the installer's log (the details view; install.log in NSIS logging builds; since pull
rem    request 1108 a silent install also copies it to the console and log).
rem  - A non-zero exit code makes NSIS log "::error::" and the step's failure message and show
rem    an Abort/Retry/Ignore box. Interactively the user chooses; in silent mode (/S) the box
rem    takes its /SD default, IDABORT in 3.16.3, so the install stops.
rem  - NSIS writes PREFIX\.nonadmin for Just Me installs before pre_install runs: no .nonadmin
rem    means All Users.
rem  - NSIS sets PATH to the prefix and the System32 folders only: tools are called by full path.
rem So on any problem this file prints one "::error::" line (constructor's own marker, which its
rem CI greps in the log) naming the variable and the rule, exits 1 and writes nothing; above all
rem it never writes install.json, the marker the verifier requires, so an install whose hook
rem failed (or was skipped) fails verification. It checks every input again before writing.
rem
rem Untrusted values are never expanded before they are checked: a value is read one character
rem at a time (call set with :~n,1), each character is compared with the allowed ones, and the
rem checked result is compared again with the raw value printed by set. Only checked values and
rem paths (which cannot hold a double quote) are expanded later, paths only inside double quotes.
rem Delayed expansion stays off, so an exclamation mark is plain text.
rem
rem The checks shared with pre_install.bat are in lib\common.bat; the installer gets this file
rem with that one included (orgconda.hooks.staged_hooks).

setlocal EnableExtensions DisableDelayedExpansion
set "HOOK=post_install"

rem orgconda-include lib\common.bat

rem Every problem is reported before the hook stops: the inputs, then the bundled CA
rem certificate, which must be in the prefix now (the installer ships it).
call :check_inputs
set "CA_PATH="
if not defined CA_NAME goto :inputs_checked
set "CA_PATH=%PREFIX%\etc\orgconda\%CA_NAME%"
if exist "%CA_PATH%\*" goto :ca_missing
if not exist "%CA_PATH%" goto :ca_missing
set "CA_SIZE=0"
for %%F in ("%CA_PATH%") do set "CA_SIZE=%%~zF"
if "%CA_SIZE%"=="0" goto :ca_empty
goto :inputs_checked
:ca_missing
>&2 echo ::error:: orgconda %HOOK%: ORGCONDA_CA_FILE names "%CA_PATH%", which is not a file: the installer ships it as an extra file; rebuild the installer if it is missing
set /a ERRORS+=1
goto :inputs_checked
:ca_empty
>&2 echo ::error:: orgconda %HOOK%: ORGCONDA_CA_FILE names "%CA_PATH%", which is empty: rebuild the installer with the CA certificate
set /a ERRORS+=1
:inputs_checked
if not "%ERRORS%"=="0" exit /b 1
set "TOK_INSTALLER=%CHECKED_ORGCONDA_INSTALLER_TOKEN%"
set "TOK_ORG=%CHECKED_ORGCONDA_ORG_TOKEN%"
if exist "%PREFIX%\.nonadmin" (set "ALL_USERS=false") else (set "ALL_USERS=true")

rem The machine token: supplied, else kept from the token folder (the system one for scope
rem system, never the prefix), else generated. Decided before anything is written.
if not defined ORGCONDA_MACHINE_TOKEN goto :machine_existing
set "MACHINE_TOKEN=%CHECKED_ORGCONDA_MACHINE_TOKEN%"
set "MACHINE_SOURCE=supplied"
goto :machine_done
:machine_existing
set "READ_FILE=%TOKEN_DIR%\machine_token"
call :read_word 36
if not defined READ_VALUE goto :machine_generate
set "MACHINE_TOKEN=%READ_VALUE%"
set "MACHINE_SOURCE=kept"
goto :machine_done
:machine_generate
call :generate
if not defined GEN_VALUE goto :generate_failed
set "MACHINE_TOKEN=%GEN_VALUE%"
set "MACHINE_SOURCE=generated"
:machine_done

rem All Users installs: seed the environment token (22+ URL-safe characters, no line end, as
rem anaconda-anon-usage writes it), keeping a valid one from an earlier install.
set "ENV_TOKEN="
set "ENV_SOURCE="
if "%ALL_USERS%"=="false" goto :env_done
set "READ_FILE=%PREFIX%\etc\aau_token"
call :read_word 64
if defined READ_VALUE if %SCAN_LEN% GEQ 22 set "ENV_TOKEN=%READ_VALUE%"
set "ENV_SOURCE=kept"
if defined ENV_TOKEN goto :env_done
call :generate
if not defined GEN_VALUE goto :generate_failed
set "ENV_TOKEN=%GEN_VALUE%"
set "ENV_SOURCE=generated"
:env_done

rem Installer metadata for the record, reduced to characters that are safe here.
call :meta INSTALLER_NAME META_NAME
call :meta INSTALLER_VER META_VER
call :meta INSTALLER_PLAT META_PLAT
call :meta INSTALLER_TYPE META_TYPE
call :meta INSTALLER_UNATTENDED META_UNATTENDED
set "UNATTENDED=false"
if "%META_UNATTENDED%"=="1" set "UNATTENDED=true"

rem Write.
if not exist "%TOKEN_DIR%\*" mkdir "%TOKEN_DIR%" >nul 2>&1
if not exist "%TOKEN_DIR%\*" goto :mkdir_failed
set "WF_DIR=%TOKEN_DIR%"
set "WF_NEWLINE=yes"
set "WF_NAME=.installer_token"
set "WF_VALUE=%TOK_INSTALLER%"
call :write_file
if errorlevel 1 exit /b 1
set "WF_NAME=org_token"
set "WF_VALUE=%TOK_ORG%"
call :write_file
if errorlevel 1 exit /b 1
set "WF_NAME=machine_token"
set "WF_VALUE=%MACHINE_TOKEN%"
call :write_file
if errorlevel 1 exit /b 1
set "ENV_SEEDED=false"
if not defined ENV_TOKEN goto :record
if not exist "%PREFIX%\etc\*" mkdir "%PREFIX%\etc" >nul 2>&1
set "WF_DIR=%PREFIX%\etc"
set "WF_NAME=aau_token"
set "WF_VALUE=%ENV_TOKEN%"
set "WF_NEWLINE=no"
call :write_file
if errorlevel 1 exit /b 1
set "ENV_SEEDED=true"

:record
rem Paths may hold characters outside ASCII: write the CA setting and the record as UTF-8. The
rem console is this cmd.exe's own (the NSIS installer has no console to share), so it is not
rem restored.
chcp 65001 >nul 2>&1
set "CA_YML=%PREFIX%\condarc.d\orgconda-ca.yml"
set "CA_NOTE="
set "CA_TMP="
if defined CA_PATH goto :ca_write
if not exist "%CA_YML%" goto :ca_done
rem An earlier installer bundled a CA certificate and this one does not: its setting goes.
del /q "%CA_YML%" >nul 2>&1
if exist "%CA_YML%" goto :ca_remove_failed
set "CA_NOTE=removed"
goto :ca_done
:ca_write
if not exist "%PREFIX%\condarc.d\*" mkdir "%PREFIX%\condarc.d" >nul 2>&1
if not exist "%PREFIX%\condarc.d\*" goto :mkdir_failed
if exist "%CA_YML%\*" goto :ca_write_failed
rem YAML single quotes: backslashes are plain, a quote is doubled. set /p writes the line
rem without a line end (the path stays inside double quotes, so & ^ ( ) are plain), echo/ ends it.
set "CA_YAML=%CA_PATH:'=''%"
set "CA_TMP=%PREFIX%\condarc.d\.orgconda-ca.yml.orgconda-%RANDOM%%RANDOM%.tmp"
<nul >"%CA_TMP%" set /p "=ssl_verify: '%CA_YAML%'"
>>"%CA_TMP%" echo/
if not exist "%CA_TMP%" goto :ca_write_failed
move /y "%CA_TMP%" "%CA_YML%" >nul 2>&1
if exist "%CA_TMP%" goto :ca_write_failed
if not exist "%CA_YML%" goto :ca_write_failed
set "J_CA=%CA_PATH:\=\\%"
set "CA_NOTE=wrote"
:ca_done

set "RECORD_DIR=%PREFIX%\etc\orgconda"
if not exist "%RECORD_DIR%\*" mkdir "%RECORD_DIR%" >nul 2>&1
if not exist "%RECORD_DIR%\*" goto :mkdir_failed
set "J_TOKEN_DIR=%TOKEN_DIR:\=\\%"
set "J_PREFIX=%PREFIX:\=\\%"
set "RECORD_TMP=%RECORD_DIR%\.install.json.orgconda-%RANDOM%%RANDOM%.tmp"
>"%RECORD_TMP%" echo {
>>"%RECORD_TMP%" echo   "format": 1,
>>"%RECORD_TMP%" echo   "hook": "post_install",
>>"%RECORD_TMP%" echo   "installer_name": "%META_NAME%",
>>"%RECORD_TMP%" echo   "installer_version": "%META_VER%",
>>"%RECORD_TMP%" echo   "installer_platform": "%META_PLAT%",
>>"%RECORD_TMP%" echo   "installer_type": "%META_TYPE%",
>>"%RECORD_TMP%" echo   "scope": "%SCOPE%",
>>"%RECORD_TMP%" echo   "token_dir": "%J_TOKEN_DIR%",
>>"%RECORD_TMP%" echo   "files": [
>>"%RECORD_TMP%" echo     "%J_TOKEN_DIR%\\.installer_token",
>>"%RECORD_TMP%" echo     "%J_TOKEN_DIR%\\org_token",
>>"%RECORD_TMP%" echo     "%J_TOKEN_DIR%\\machine_token"
if "%ENV_SEEDED%"=="false" goto :record_files_done
>>"%RECORD_TMP%" echo     , "%J_PREFIX%\\etc\\aau_token"
:record_files_done
>>"%RECORD_TMP%" echo   ],
>>"%RECORD_TMP%" echo   "installer_token": "%TOK_INSTALLER%",
>>"%RECORD_TMP%" echo   "org_token": "%TOK_ORG%",
>>"%RECORD_TMP%" echo   "machine_token_source": "%MACHINE_SOURCE%",
>>"%RECORD_TMP%" echo   "env_token_seeded": %ENV_SEEDED%,
>>"%RECORD_TMP%" echo   "all_users": %ALL_USERS%,
>>"%RECORD_TMP%" echo   "unattended": %UNATTENDED%,
if "%CA_NOTE%"=="wrote" goto :record_ca
>>"%RECORD_TMP%" echo   "ca_certificate": null
goto :record_end
:record_ca
>>"%RECORD_TMP%" echo   "ca_certificate": "%J_CA%"
:record_end
>>"%RECORD_TMP%" echo }
if not exist "%RECORD_TMP%" goto :record_failed
move /y "%RECORD_TMP%" "%RECORD_DIR%\install.json" >nul 2>&1
if exist "%RECORD_TMP%" goto :record_failed

echo orgconda %HOOK%: wrote .installer_token, org_token and machine_token (%MACHINE_SOURCE%) to "%TOKEN_DIR%" (scope %SCOPE%)
if "%ENV_SOURCE%"=="kept" echo orgconda %HOOK%: kept the environment token in "%PREFIX%\etc\aau_token" from an earlier install (All Users install)
if "%ENV_SOURCE%"=="generated" echo orgconda %HOOK%: seeded "%PREFIX%\etc\aau_token" with a new environment token (All Users install)
if "%CA_NOTE%"=="wrote" echo orgconda %HOOK%: wrote "%CA_YML%": ssl_verify is "%CA_PATH%"
if "%CA_NOTE%"=="removed" echo orgconda %HOOK%: removed "%CA_YML%", left by an earlier install: this installer bundles no CA certificate
echo orgconda %HOOK%: record: "%RECORD_DIR%\install.json"
exit /b 0

:generate_failed
>&2 echo ::error:: orgconda %HOOK%: cannot generate a random token: neither PowerShell (System.Security.Cryptography.RandomNumberGenerator) nor "%PREFIX%\python.exe" gave one; supply the machine token in ORGCONDA_MACHINE_TOKEN
exit /b 1
:mkdir_failed
>&2 echo ::error:: orgconda %HOOK%: cannot create a directory under "%TOKEN_DIR%" or "%PREFIX%"
exit /b 1
:ca_remove_failed
>&2 echo ::error:: orgconda %HOOK%: cannot remove "%CA_YML%", left by an earlier install
exit /b 1
:ca_write_failed
if defined CA_TMP if exist "%CA_TMP%" del /q "%CA_TMP%" >nul 2>&1
>&2 echo ::error:: orgconda %HOOK%: cannot write "%CA_YML%"
exit /b 1
:record_failed
if exist "%RECORD_TMP%" del /q "%RECORD_TMP%" >nul 2>&1
>&2 echo ::error:: orgconda %HOOK%: cannot write "%RECORD_DIR%\install.json"
exit /b 1

:read_word
rem READ_VALUE = the first non-blank line of READ_FILE when it is one word of at most %1 token
rem characters (surrounding blanks ignored), else empty.
set "READ_VALUE="
set "READ_LINE="
if not exist "%READ_FILE%" exit /b 0
for /f "usebackq tokens=1,*" %%A in ("%READ_FILE%") do if not defined READ_LINE set "READ_LINE=%%A?%%B"
if not defined READ_LINE exit /b 0
set "READ_LINE=%READ_LINE:"=#%"
set "READ_REST=%READ_LINE:*?=%"
if defined READ_REST exit /b 0
set "READ_WORD=%READ_LINE:?=%"
set "SCAN_CHARS=%TOKEN_CHARS%"
set "SCAN_SPACE="
set "SCAN_EXACT=1"
call :scan READ_WORD %1
set "SCAN_EXACT="
if defined SCAN_BAD exit /b 0
if defined SCAN_LONG exit /b 0
set "READ_VALUE=%SCAN_VALUE%"
exit /b 0

:generate
rem GEN_VALUE = 22 URL-safe base64 characters from a CSPRNG, or empty. RANDOM only names the
rem temporary file.
set "GEN_VALUE="
set "GEN_TMP=%TEMP%\orgconda-%RANDOM%%RANDOM%.tmp"
if not defined TEMP set "GEN_TMP=%PREFIX%\.orgconda-%RANDOM%%RANDOM%.tmp"
set "GEN_PS=%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
if not exist "%GEN_PS%" goto :generate_python
"%GEN_PS%" -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "$b = New-Object byte[] 16; [Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($b); [Convert]::ToBase64String($b).Substring(0, 22).Replace('+', '-').Replace('/', '_')" >"%GEN_TMP%" 2>nul
call :generate_read
if defined GEN_VALUE exit /b 0
:generate_python
if not exist "%PREFIX%\python.exe" exit /b 0
"%PREFIX%\python.exe" -I -c "import secrets; print(secrets.token_urlsafe(16))" >"%GEN_TMP%" 2>nul
call :generate_read
exit /b 0

:generate_read
set "READ_FILE=%GEN_TMP%"
call :read_word 22
if exist "%GEN_TMP%" del /q "%GEN_TMP%" >nul 2>&1
if not defined READ_VALUE exit /b 0
if not "%SCAN_LEN%"=="22" exit /b 0
set "GEN_VALUE=%READ_VALUE%"
exit /b 0

:meta
rem %2 = the variable named %1 with characters other than letters, digits, space and . + _ -
rem replaced by _ (at most 100 characters), or empty when it is not set.
set "%2="
if not defined %1 exit /b 0
set "SCAN_CHARS=%TOKEN_CHARS% . +"
set "SCAN_SPACE=1"
call :scan %1 100
set "SCAN_SPACE="
set "%2=%SCAN_VALUE%"
exit /b 0

:write_file
rem Writes WF_VALUE (a checked token) to WF_DIR\WF_NAME through a temporary file in WF_DIR,
rem with CRLF when WF_NEWLINE is yes.
if exist "%WF_DIR%\%WF_NAME%\*" goto :write_file_failed
set "WF_TMP=%WF_DIR%\.%WF_NAME%.orgconda-%RANDOM%%RANDOM%.tmp"
if "%WF_NEWLINE%"=="no" goto :write_file_bare
>"%WF_TMP%" echo %WF_VALUE%
goto :write_file_move
:write_file_bare
<nul >"%WF_TMP%" set /p "=%WF_VALUE%"
:write_file_move
if not exist "%WF_TMP%" goto :write_file_failed
move /y "%WF_TMP%" "%WF_DIR%\%WF_NAME%" >nul 2>&1
if exist "%WF_TMP%" goto :write_file_failed
if not exist "%WF_DIR%\%WF_NAME%" goto :write_file_failed
exit /b 0
:write_file_failed
if exist "%WF_TMP%" del /q "%WF_TMP%" >nul 2>&1
>&2 echo ::error:: orgconda %HOOK%: cannot write "%WF_DIR%\%WF_NAME%"
exit /b 1
