#!/bin/bash
. "${0%/*}/lib.sh"
t_ok() { vm_assert true; }
t_bad() { vm_assert_eq 1 2 "one equals two"; }
t_cmd() { false; echo never; }
vm_test "passes" t_ok
vm_test "fails on assertion" t_bad
vm_test "fails on a plain command" t_cmd
vm_summary
