#!/bin/sh
# Runs every test of bin/wc-words; exits non-zero on the first failure.
set -eu
here=$(dirname "$0")
check() {
  expected=$1
  input=$2
  actual=$(printf '%s' "$input" | "$here/../bin/wc-words")
  if [ "$actual" != "$expected" ]; then
    echo "FAIL: '$input' gave $actual, expected $expected" >&2
    exit 1
  fi
}
check 3 "one two three"
check 2 "a  b"
echo "all tests passed"
