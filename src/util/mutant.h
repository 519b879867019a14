/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Compile-time faults ("mutants") that prove the test suite can fail
 * (tests/README): `./configure --enable-mutant=NAME` defines
 * VMNET_MUTANT_<NAME> to 1 in config.h, and the code at the one place that
 * behaviour lives reads `if (VMNET_MUTANT_IS(NAME))`. In a normal build
 * every name below is 0 and the compiler drops the branch.
 *
 * One line per mutant; configure refuses a name that is not listed here.
 */

#ifndef VMNET_MUTANT_PORT_VLAN
#define VMNET_MUTANT_PORT_VLAN 0 /* guest ports of a VLAN-aware bridge are not put in their VLAN */
#endif

#define VMNET_MUTANT_IS(name) (VMNET_MUTANT_##name)
