#!/bin/bash
. "${0%/*}/lib.sh"
echo "hanging"; sleep 1000 & sleep 1000
