@echo off
rem orgconda post-install hook for Windows .exe installers made by constructor (NSIS).
rem
rem Writes the system tokens that anaconda-anon-usage reads, one token per file:
rem   .installer_token  from ORGCONDA_INSTALLER_TOKEN (script_env_variables)
rem   org_token         from ORGCONDA_ORG_TOKEN       (script_env_variables)
rem   machine_token     from ORGCONDA_MACHINE_TOKEN in the installing environment if set, else
rem                     the valid machine_token already there (a reinstall keeps the identity),
rem                     else 22 URL-safe base64 characters from a CSPRNG: PowerShell's
rem                     System.Security.Cryptography.RandomNumberGenerator, or else the
rem                     installed Python's secrets module (never RANDOM)
rem into PREFIX (ORGCONDA_TOKEN_SCOPE=prefix, the default) or ProgramData\conda (system;
rem anaconda-anon-usage reads the literal C:/ProgramData/conda; ORGCONDA_SYSTEM_TOKEN_DIR
rem replaces the directory, for tests and unusual layouts). An All Users install also seeds
rem PREFIX\etc\aau_token, so the e/ token works for users who cannot write the prefix.
rem Last it records what it did in PREFIX\etc\orgconda\install.json (never the machine token).
rem Each file holds the token and CRLF (aau_token: no line end), ASCII, no BOM, and is written
rem to a temporary file in the same directory and moved into place.
rem
rem What this file relies on in constructor's NSIS installer (read in conda/constructor:
rem constructor/nsis/main.nsi.tmpl, constructor/nsis/_nsis.py, pull requests 1069 and 1108):
rem  - pre_install.bat runs as cmd.exe /D /C PREFIX\pkgs\pre_install.bat after the package
rem    cache is extracted and before the packages are linked. post_install.bat runs the same
rem    way after linking; older releases ran it through _nsis.py, which dropped its exit code
rem    unless NSIS_SCRIPTS_RAISE_ERRORS was set in the installing environment.
rem  - The command runs under nsExec::ExecToLog, so all it prints, stdout and stderr, lands in
rem    the installer's log (the details view; install.log in NSIS logging builds; since pull
rem    request 1108 a silent install also copies it to the console and log).
rem  - A non-zero exit code makes NSIS log "::error:: Failed to run ..." and show an
rem    Abort/Retry/Ignore box. Interactively the user chooses. In silent mode (/S) the box
rem    takes its /SD default, IDIGNORE in the templates read (3.16.3's own could not be read):
rem    NSIS goes on and the .exe exits 0. A hook cannot stop NSIS itself.
rem    constructor documents the fix: NSIS_SCRIPTS_RAISE_ERRORS=1 in the installer's
rem    environment makes a failing script abort the silent install. The README tells
rem    MDM tools to set it, and `build.py verify` sets it.
rem  - NSIS writes PREFIX\.nonadmin for Just Me installs before pre_install runs: no .nonadmin
rem    means All Users.
rem  - NSIS sets PATH to the prefix and the System32 folders only: tools are called by full path.
rem So on any problem this file prints one "::error::" line (constructor's own marker, which its
rem CI greps in the log) naming the variable and the rule, exits 1 and writes nothing; above all
rem it never writes install.json, the marker the verifier requires, so a silent install whose
rem hook failed fails verification. post_install.bat checks every input again before writing.
rem
rem Untrusted values are never expanded before they are checked: a value is read one character
rem at a time (call set with :~n,1), each character is compared with the allowed ones, and the
rem checked result is compared again with the raw value printed by set. Only checked values and
rem paths (which cannot hold a double quote) are expanded later, paths only inside double quotes.
rem Delayed expansion stays off, so an exclamation mark is plain text.

setlocal EnableExtensions DisableDelayedExpansion
set "HOOK=post_install"

rem --- shared with pre_install.bat: begin (tests check that both copies are identical) ---
set "TOKEN_CHARS=A B C D E F G H I J K L M N O P Q R S T U V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 _ -"
set "ERRORS=0"
goto :shared_end

:token_error
rem %1 = variable name, %2 = what is wrong with it.
if "%2"=="unset" set "TE_PROBLEM=is not set or empty"
if "%2"=="long" set "TE_PROBLEM=is longer than 36 characters"
if "%2"=="chars" set "TE_PROBLEM=contains characters outside A-Z a-z 0-9 _ -"
>&2 echo ::error:: orgconda %HOOK%: %1 %TE_PROBLEM%; it must match ^^[A-Za-z0-9_-]{1,36}$ (1 to 36 characters from A-Z a-z 0-9 _ -)
set /a ERRORS+=1
exit /b 1

:scan
rem Reads the variable named %1 one character at a time, at most %2 characters. Allowed
rem characters are the words of SCAN_CHARS (plus space when SCAN_SPACE is defined). Sets
rem SCAN_VALUE (the value, each other character replaced by _), SCAN_LEN, SCAN_BAD (another
rem character was seen) and SCAN_LONG (more than %2 characters). With SCAN_EXACT defined the
rem result is compared with the raw value printed by set, which catches characters that cmd
rem drops while expanding (a carriage return, for one). set writes to a temporary file that
rem for /f reads back: a for /f over the command itself would start one more cmd.exe.
set "SCAN_VALUE="
set "SCAN_BAD="
set "SCAN_LONG="
set "SCAN_LEN=0"
:scan_next
set "SCAN_C="
call set "SCAN_C=%%%1:~%SCAN_LEN%,1%%"
if not defined SCAN_C goto :scan_end
set "SCAN_C=%SCAN_C:"=?%"
if %SCAN_LEN% GEQ %2 set "SCAN_LONG=1"
if defined SCAN_LONG goto :scan_end
set /a SCAN_LEN+=1
set "SCAN_HIT="
for %%a in (%SCAN_CHARS%) do if "%SCAN_C%"=="%%a" set "SCAN_HIT=1"
if defined SCAN_SPACE if "%SCAN_C%"==" " set "SCAN_HIT=1"
if not defined SCAN_HIT goto :scan_other
set "SCAN_VALUE=%SCAN_VALUE%%SCAN_C%"
goto :scan_next
:scan_other
set "SCAN_BAD=1"
set "SCAN_VALUE=%SCAN_VALUE%_"
goto :scan_next
:scan_end
if not defined SCAN_EXACT exit /b 0
if defined SCAN_BAD exit /b 0
if defined SCAN_LONG exit /b 0
set "SCAN_TMP=%TEMP%\orgconda-scan-%RANDOM%%RANDOM%.tmp"
if defined TEMP set %1 >"%SCAN_TMP%" 2>nul
if not exist "%SCAN_TMP%" goto :scan_exact_spawn
for /f "usebackq tokens=1,* delims==" %%A in ("%SCAN_TMP%") do if /I "%%A"=="%1" if not "%%B"=="%SCAN_VALUE%" set "SCAN_BAD=1"
del /q "%SCAN_TMP%" >nul 2>&1
exit /b 0
:scan_exact_spawn
for /f "tokens=1,* delims==" %%A in ('set %1') do if /I "%%A"=="%1" if not "%%B"=="%SCAN_VALUE%" set "SCAN_BAD=1"
exit /b 0

:check_token
rem The variable named %1 must hold a valid token; its checked value goes to CHECKED_%1.
set "CHECKED_%1="
if not defined %1 goto :check_token_unset
set "SCAN_CHARS=%TOKEN_CHARS%"
set "SCAN_SPACE="
set "SCAN_EXACT=1"
call :scan %1 36
set "SCAN_EXACT="
if "%SCAN_LEN%"=="0" goto :check_token_unset
if defined SCAN_LONG goto :check_token_long
if defined SCAN_BAD goto :check_token_chars
set "CHECKED_%1=%SCAN_VALUE%"
exit /b 0
:check_token_unset
call :token_error %1 unset
exit /b 1
:check_token_long
call :token_error %1 long
exit /b 1
:check_token_chars
call :token_error %1 chars
exit /b 1

:check_path
rem The variable named %1 must be an absolute Windows path without a double quote; its value
rem goes to CHECKED_PATH.
set "CHECKED_PATH="
if not defined %1 goto :check_path_unset
call set "CHECKED_PATH=%%%1:"=?%%"
if not defined CHECKED_PATH goto :check_path_unset
if not "%CHECKED_PATH:?=%"=="%CHECKED_PATH%" goto :check_path_bad
if "%CHECKED_PATH:~1,2%"==":\" exit /b 0
if "%CHECKED_PATH:~0,2%"=="\\" exit /b 0
:check_path_bad
>&2 echo ::error:: orgconda %HOOK%: %1 must be an absolute path (like C:\dir) without double quotes
set "CHECKED_PATH="
set /a ERRORS+=1
exit /b 1
:check_path_unset
>&2 echo ::error:: orgconda %HOOK%: %1 is not set; this script is run by the installer, which sets it
set /a ERRORS+=1
exit /b 1

:resolve_scope
rem Sets SCOPE and TOKEN_DIR from ORGCONDA_TOKEN_SCOPE (unset or empty means prefix).
set "SCOPE=prefix"
set "TOKEN_DIR=%PREFIX%"
if not defined ORGCONDA_TOKEN_SCOPE exit /b 0
set "SCAN_CHARS=%TOKEN_CHARS%"
set "SCAN_SPACE="
set "SCAN_EXACT=1"
call :scan ORGCONDA_TOKEN_SCOPE 6
set "SCAN_EXACT="
if defined SCAN_BAD goto :resolve_scope_bad
if defined SCAN_LONG goto :resolve_scope_bad
if "%SCAN_LEN%"=="0" exit /b 0
if "%SCAN_VALUE%"=="prefix" exit /b 0
if not "%SCAN_VALUE%"=="system" goto :resolve_scope_bad
set "SCOPE=system"
set "TOKEN_DIR=%ProgramData%\conda"
if defined ORGCONDA_SYSTEM_TOKEN_DIR goto :resolve_scope_override
if /I not "%ProgramData%"=="C:\ProgramData" echo ::warning:: orgconda %HOOK%: ProgramData is "%ProgramData%", but anaconda-anon-usage reads C:/ProgramData/conda; set ORGCONDA_SYSTEM_TOKEN_DIR=C:\ProgramData\conda to write there
exit /b 0
:resolve_scope_override
call :check_path ORGCONDA_SYSTEM_TOKEN_DIR
if errorlevel 1 exit /b 1
set "TOKEN_DIR=%CHECKED_PATH%"
exit /b 0
:resolve_scope_bad
>&2 echo ::error:: orgconda %HOOK%: ORGCONDA_TOKEN_SCOPE must be 'prefix' or 'system'
set /a ERRORS+=1
exit /b 1

:check_admin
rem Exit 0 when this process runs elevated. fltmc needs admin rights (Sysnative is the 64-bit
rem System32 as a 32-bit cmd.exe under the 32-bit NSIS installer sees it); then the High
rem Mandatory Level group in whoami's list; then net session, which needs the Server service.
set "CA_SYS=%SystemRoot%\System32"
if exist "%SystemRoot%\Sysnative\fltmc.exe" set "CA_SYS=%SystemRoot%\Sysnative"
"%CA_SYS%\fltmc.exe" >nul 2>&1
if not errorlevel 1 exit /b 0
"%SystemRoot%\System32\whoami.exe" /groups 2>nul | "%SystemRoot%\System32\find.exe" "S-1-16-12288" >nul 2>&1
if not errorlevel 1 exit /b 0
"%SystemRoot%\System32\net.exe" session >nul 2>&1
if not errorlevel 1 exit /b 0
exit /b 1

:check_writable
rem CW_DIR, or if it does not exist yet the nearest existing directory above it, must take a
rem new file (a probe file is created and deleted). CW_WHAT names the files, CW_HINT is added.
set "CW_AT=%CW_DIR%"
:check_writable_up
if exist "%CW_AT%\*" goto :check_writable_probe
if exist "%CW_AT%" goto :check_writable_notdir
set "CW_PREV=%CW_AT%"
for %%P in ("%CW_AT%\..") do set "CW_AT=%%~fP"
if "%CW_AT%"=="%CW_PREV%" goto :check_writable_notdir
goto :check_writable_up
:check_writable_probe
set "CW_PROBE=%CW_AT%\.orgconda-write-test-%RANDOM%%RANDOM%.tmp"
type nul >"%CW_PROBE%" 2>nul
if not exist "%CW_PROBE%" goto :check_writable_denied
del /q "%CW_PROBE%" >nul 2>&1
exit /b 0
:check_writable_notdir
>&2 echo ::error:: orgconda %HOOK%: cannot write %CW_WHAT% to "%CW_DIR%": "%CW_AT%" is not a directory%CW_HINT%
set /a ERRORS+=1
exit /b 1
:check_writable_denied
>&2 echo ::error:: orgconda %HOOK%: cannot write %CW_WHAT% to "%CW_DIR%": "%CW_AT%" is not writable (read-only, or missing permission)%CW_HINT%
set /a ERRORS+=1
exit /b 1

:check_inputs
rem Checks every install-time input and the target directories, reporting all problems.
call :check_path PREFIX
if errorlevel 1 exit /b 1
set "PREFIX=%CHECKED_PATH%"
call :check_token ORGCONDA_INSTALLER_TOKEN
call :check_token ORGCONDA_ORG_TOKEN
if defined ORGCONDA_MACHINE_TOKEN call :check_token ORGCONDA_MACHINE_TOKEN
call :resolve_scope
if not "%SCOPE%"=="system" goto :check_inputs_prefix
call :check_admin
if not errorlevel 1 goto :check_inputs_system_dir
>&2 echo ::error:: orgconda %HOOK%: ORGCONDA_TOKEN_SCOPE=system writes the tokens to "%TOKEN_DIR%", which needs admin rights: run the installer from an elevated prompt, for example with /InstallationType=AllUsers, or use an installer built with token scope prefix
set /a ERRORS+=1
:check_inputs_system_dir
set "CW_DIR=%TOKEN_DIR%"
set "CW_WHAT=the system tokens"
set "CW_HINT=; ORGCONDA_TOKEN_SCOPE=system needs admin rights"
call :check_writable
:check_inputs_prefix
set "CW_DIR=%PREFIX%"
set "CW_WHAT=the installation's tokens and record"
set "CW_HINT="
call :check_writable
if not "%ERRORS%"=="0" exit /b 1
exit /b 0
rem --- shared with pre_install.bat: end ---

:shared_end
call :check_inputs
if errorlevel 1 exit /b 1
set "TOK_INSTALLER=%CHECKED_ORGCONDA_INSTALLER_TOKEN%"
set "TOK_ORG=%CHECKED_ORGCONDA_ORG_TOKEN%"
if exist "%PREFIX%\.nonadmin" (set "ALL_USERS=false") else (set "ALL_USERS=true")

rem The machine token: supplied, else kept, else generated. Decided before anything is written.
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
if "%ALL_USERS%"=="false" goto :env_done
set "READ_FILE=%PREFIX%\etc\aau_token"
call :read_word 64
if defined READ_VALUE if %SCAN_LEN% GEQ 22 set "ENV_TOKEN=%READ_VALUE%"
if defined ENV_TOKEN goto :env_done
call :generate
if not defined GEN_VALUE goto :generate_failed
set "ENV_TOKEN=%GEN_VALUE%"
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
set "RECORD_DIR=%PREFIX%\etc\orgconda"
if not exist "%RECORD_DIR%\*" mkdir "%RECORD_DIR%" >nul 2>&1
if not exist "%RECORD_DIR%\*" goto :mkdir_failed
set "J_TOKEN_DIR=%TOKEN_DIR:\=\\%"
set "J_PREFIX=%PREFIX:\=\\%"
set "RECORD_TMP=%RECORD_DIR%\.install.json.orgconda-%RANDOM%%RANDOM%.tmp"
rem Paths may hold characters outside ASCII: write the record as UTF-8. The console is this
rem cmd.exe's own (the NSIS installer has no console to share), so it is not restored.
chcp 65001 >nul 2>&1
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
>>"%RECORD_TMP%" echo   "unattended": %UNATTENDED%
>>"%RECORD_TMP%" echo }
if not exist "%RECORD_TMP%" goto :record_failed
move /y "%RECORD_TMP%" "%RECORD_DIR%\install.json" >nul 2>&1
if exist "%RECORD_TMP%" goto :record_failed

echo orgconda %HOOK%: wrote .installer_token, org_token and machine_token (%MACHINE_SOURCE%) to "%TOKEN_DIR%" (scope %SCOPE%)
if "%ENV_SEEDED%"=="true" echo orgconda %HOOK%: seeded "%PREFIX%\etc\aau_token" for this All Users install
echo orgconda %HOOK%: record: "%RECORD_DIR%\install.json"
exit /b 0

:generate_failed
>&2 echo ::error:: orgconda %HOOK%: cannot generate a random token: neither PowerShell (System.Security.Cryptography.RandomNumberGenerator) nor "%PREFIX%\python.exe" gave one; supply the machine token in ORGCONDA_MACHINE_TOKEN
exit /b 1
:mkdir_failed
>&2 echo ::error:: orgconda %HOOK%: cannot create a directory under "%TOKEN_DIR%" or "%PREFIX%"
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
