@echo off
rem conda-build script for the org configuration package (Windows builders).
rem Static on purpose: build.py renders every file the package ships into files\ (laid out
rem as in the install prefix), so this script needs no profile knowledge and no values.
if not exist "%RECIPE_DIR%\files\" (
    echo error: %RECIPE_DIR%\files is missing; render the recipe with python build.py 1>&2
    exit 1
)
rem xcopy copies the bytes unchanged; /E includes subfolders, /I treats the target as a folder.
xcopy "%RECIPE_DIR%\files" "%PREFIX%\" /E /I /Y /Q
if errorlevel 1 exit 1
exit 0
