#!/bin/bash
# NAT, masquerade and port forwards end to end on the VM's stock kernel: the
# same test make check runs in namespaces on the build machine, whose kernel
# has nftables built in.  Debian's kernel loads nf_tables, nft_chain_nat,
# nft_nat, nft_masq and nft_fib as modules on demand, as a real host does.
exec bash "$top_srcdir/tests/netns/t-nat.sh"
