# bench/timing.sh: the timing helpers of bench/run-bench.sh and
# bench/run-fleet.sh (sourced; they set REPEAT).
# Times in microseconds from bash itself ($EPOCHREALTIME): $(date) would add a
# process start to every measurement (66 ms in the emulated VM), hiding most
# of a small plan's cost.
# best of REPEAT runs of a setup + measured command, in ms with 0.1 ms resolution
# (a whole run of a small plan natively takes a few ms)
best() { # SETUP MEASURED
        local b= t0 t1 d
        for _ in $(seq "$REPEAT"); do
                eval "$1"
                t0=${EPOCHREALTIME/./}; eval "$2" >/dev/null; t1=${EPOCHREALTIME/./}
                d=$((10#$t1 - 10#$t0))
                if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
        done
        awk -v us="$b" 'BEGIN { printf "%.1f", us / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'; }
