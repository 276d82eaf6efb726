#!/bin/sh
echo "script ran with $# args" > "$1"
