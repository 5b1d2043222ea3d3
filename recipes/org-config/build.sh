#!/bin/sh
# conda-build script for the org configuration package (Unix builders).
# Static on purpose: build.py renders every file the package ships into files/ (laid out
# as in the install prefix), so this script needs no profile knowledge and no values.
set -eu

if [ ! -d "${RECIPE_DIR}/files" ]; then
    echo "error: ${RECIPE_DIR}/files is missing; render the recipe with python build.py" >&2
    exit 1
fi
mkdir -p "${PREFIX}"
# Copy byte for byte (cp keeps the bytes; nothing here rewrites or templates them).
cp -R "${RECIPE_DIR}/files/." "${PREFIX}/"
