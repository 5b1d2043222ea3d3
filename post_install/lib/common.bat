rem orgconda: the input checks shared by pre_install.bat and post_install.bat (cmd.exe).
rem
rem One source: each hook includes this file with the line  rem orgconda-include lib\common.bat
rem and orgconda.hooks.staged_hooks("bat") replaces that line with this file's text, so the
rem scripts an installer ships are standalone (cmd.exe cannot call labels in another file, so
rem the sources only run once staged). The including script sets HOOK first; this text sets
rem its variables, jumps over its subroutines and goes on after them.
rem
rem How values are read safely (one character at a time, never expanded before they are
rem checked) is described at the top of post_install.bat.

set "TOKEN_CHARS=A B C D E F G H I J K L M N O P Q R S T U V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 _ -"
set "ERRORS=0"
set "PREFIX_CHECKED="
goto :common_end

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

:check_ca_file
rem Sets CA_FILE from ORGCONDA_CA_FILE (not set: no bundled CA certificate), the path of the
rem certificate relative to the prefix with forward slashes, and CA_NAME, its file name. Only
rem the value is checked here.
set "CA_FILE="
set "CA_NAME="
if not defined ORGCONDA_CA_FILE exit /b 0
set "CA_PROBLEM="
set "SCAN_CHARS=%TOKEN_CHARS% . /"
set "SCAN_SPACE="
set "SCAN_EXACT=1"
call :scan ORGCONDA_CA_FILE 141
set "SCAN_EXACT="
if defined SCAN_LONG set "CA_PROBLEM=is longer than 141 characters (etc/orgconda/ and a file name of at most 128)"
if defined SCAN_BAD set "CA_PROBLEM=contains characters outside A-Z a-z 0-9 . _ - /"
if defined CA_PROBLEM goto :check_ca_file_bad
set "CA_VALUE=%SCAN_VALUE%"
if "%CA_VALUE:~0,1%"=="/" set "CA_PROBLEM=is an absolute path; it must be relative to the installation"
if defined CA_PROBLEM goto :check_ca_file_bad
if not "%CA_VALUE:..=%"=="%CA_VALUE%" set "CA_PROBLEM=contains .."
if defined CA_PROBLEM goto :check_ca_file_bad
if not "%CA_VALUE:~0,13%"=="etc/orgconda/" set "CA_PROBLEM=is not in etc/orgconda/"
if defined CA_PROBLEM goto :check_ca_file_bad
set "CA_VALUE_NAME=%CA_VALUE:~13%"
if not defined CA_VALUE_NAME set "CA_PROBLEM=names no file"
if "%CA_VALUE_NAME%"=="." set "CA_PROBLEM=names no file"
if defined CA_PROBLEM goto :check_ca_file_bad
if not "%CA_VALUE_NAME:/=%"=="%CA_VALUE_NAME%" set "CA_PROBLEM=names a subdirectory of etc/orgconda"
if defined CA_PROBLEM goto :check_ca_file_bad
set "CA_FILE=%CA_VALUE%"
set "CA_NAME=%CA_VALUE_NAME%"
exit /b 0
:check_ca_file_bad
>&2 echo ::error:: orgconda %HOOK%: ORGCONDA_CA_FILE %CA_PROBLEM%; it must be etc/orgconda/ followed by a file name of 1 to 128 characters from A-Z a-z 0-9 . _ - without ..
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
rem Checks every install-time input and the target directories, reporting all problems; exit
rem status 1 when there was one.
call :check_path PREFIX
if errorlevel 1 exit /b 1
set "PREFIX=%CHECKED_PATH%"
set "PREFIX_CHECKED=1"
call :check_token ORGCONDA_INSTALLER_TOKEN
call :check_token ORGCONDA_ORG_TOKEN
if defined ORGCONDA_MACHINE_TOKEN call :check_token ORGCONDA_MACHINE_TOKEN
call :check_ca_file
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

:common_end
