#!/usr/bin/env bash
# Fails if clang-format would change any C++ file in the tree.
set -euo pipefail
cd "$1"
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "needs clang-format: $f"; bad=1
  fi
done < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find . -name '*.cpp' -o -name '*.h' -not -path './build*')
exit $bad
