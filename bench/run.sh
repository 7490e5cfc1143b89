#!/usr/bin/env bash
# Kalla's benchmark, run by `make bench`.
#
# For each size it generates a seeded accounts-receivable book (reused when
# bench/data/<size>/ already holds the same one), runs `kalla reconcile` on
# it as CSV and as Parquet under /usr/bin/time (wall time, peak RSS), runs
# the hand-written DuckDB floor on the same files, without and with writing
# its answer (--evidence), checks that Kalla's exact rule found as many pairs
# as the floor, and writes bench/RESULTS.md.
#
#   make bench                                 # sizes 100000 1000000 10000000
#   BENCH_SIZES="100000 1000000" make bench    # fewer sizes
#
# Other knobs: BENCH_SEED (default 42), BENCH_FULL_SIZE (the size at which
# the two-rule recipe and the exact rule on one currency's records also run,
# default 1000000), BENCH_ROUNDS (rounds of Kalla and the floors at sizes
# up to 1M, default 3; the tables give medians), BENCH_MEMORY_LIMIT (each
# size's CSV book is also reconciled with this --memory-limit, default 2GB;
# empty skips those runs), BENCH_SHAPES=0 (skips the books of bench/cmd/shapes:
# ties, chains, paths, crowds, coarse, skewed, banded, ordered, compared, timed, loose, blocks, apart and few), BENCH_PIPELINE=0 (skips the pipeline).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

sizes=${BENCH_SIZES:-"100000 1000000 10000000"}
seed=${BENCH_SEED:-42}
full_size=${BENCH_FULL_SIZE:-1000000}
memory_limit=${BENCH_MEMORY_LIMIT-2GB}
bench_rounds=${BENCH_ROUNDS:-3}
round_size=1000000 # sizes up to this one run bench_rounds rounds, larger ones one
data=bench/data
tools=$data/bin
runs=$data/runs
results=bench/RESULTS.md
pipeline=$data/pipeline.md
# Hand-written notes under this heading in RESULTS.md (measurements made
# beside the benchmark, earlier runs) survive each run of it, after the
# tables it writes.
notes_heading='## Notes kept between runs'
notes=$data/notes.md
mismatches=0

log() { printf '\n== %s\n' "$*" >&2; }

install_missing() { # install_missing PROGRAM-PATH-OR-NAME DEBIAN-PACKAGE
	if [[ -x $1 ]] || command -v "$1" >/dev/null; then return; fi
	log "installing the Debian package $2"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# busy_seconds: CPU seconds the whole machine has been busy since boot, all
# cores together (user, nice, system, irq, softirq and steal from /proc/stat).
clock_ticks=$(getconf CLK_TCK)
busy_seconds() { awk -v hz="$clock_ticks" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat; }

# measure NAME COMMAND...: runs COMMAND under /usr/bin/time -v, its stdout
# into $runs/NAME.out, and sets wall (seconds), cpu (its user + system
# seconds), rss (MiB) and others (the share of the machine's CPU capacity
# that other processes used meanwhile: well above 0% means the wall time is
# inflated by competition).
measure() {
	local name=$1 before after
	shift
	before=$(busy_seconds)
	/usr/bin/time -v -o "$runs/$name.time" "$@" >"$runs/$name.out"
	after=$(busy_seconds)
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$runs/$name.time")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$runs/$name.time")
	cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.1f", s }' "$runs/$name.time")
	others=$(calc '%.0f%%' "100 * ($after - $before - $cpu) / ($wall > 0 ? $wall : 0.01) / $(nproc)")
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; } # calc FORMAT EXPRESSION

# median_index VALUE...: the index of the values' median (of the two middle
# ones the lower, for an even count); median VALUE...: that value.
median_index() {
	local i=0 v
	for v in "$@"; do
		printf '%s %d\n' "$v" "$i"
		i=$((i + 1))
	done | sort -g -k1,1 -k2,2n | awk -v m=$((($# + 1) / 2)) 'NR == m { print $2 }'
}
median() {
	local values=("$@")
	echo "${values[$(median_index "$@")]}"
}
# spread VALUE...: the lowest and the highest, to two decimals.
spread() {
	printf '%.2f\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (lo == hi ? lo : lo "-" hi) }'
}

mismatch() {
	mismatches=$((mismatches + 1))
	printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
	printf '!!! MISMATCH: %s\n' "$*" >&2
	printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
}

# --- tools -------------------------------------------------------------------

install_missing /usr/bin/time time
install_missing jq jq
mkdir -p bin "$tools" "$runs"
rm -f "$pipeline"
if [[ -f $results ]]; then
	awk -v h="$notes_heading" 'index($0, h) == 1 { keep = 1 } keep' "$results" >"$notes"
fi
log "building bin/kalla and the benchmark tools"
go build -o bin/kalla ./services/kalla
go build -o "$tools/gen" ./bench/cmd/gen
go build -o "$tools/floor" ./bench/cmd/floor
go build -o "$tools/shapes" ./bench/cmd/shapes

# --- results -----------------------------------------------------------------

command_line="make bench"
[[ -n ${BENCH_SIZES:-} ]] && command_line="BENCH_SIZES=\"$BENCH_SIZES\" $command_line"
[[ -n ${BENCH_SEED:-} ]] && command_line="BENCH_SEED=$BENCH_SEED $command_line"
[[ -n ${BENCH_ROUNDS:-} ]] && command_line="BENCH_ROUNDS=$BENCH_ROUNDS $command_line"
[[ -n ${BENCH_FULL_SIZE:-} ]] && command_line="BENCH_FULL_SIZE=$BENCH_FULL_SIZE $command_line"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
duckdb_go=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/duckdb/duckdb-go/v2") print $(i + 1) }' bench/go.mod)

main_rows=()  # the main table
phase_rows=() # kalla's own timings
full_rows=()  # the two-rule recipe
one_currency_rows=() # the exact rule on one currency
limit_rows=() # CSV with --memory-limit
shapes_rows=() # shapes of data (bench/cmd/shapes)
declare -A rss_of wall_of

write_results() { # write_results STATUS
	{
		echo "# Kalla benchmark results"
		echo
		echo "- Date: $started ($1)"
		echo "- Machine: $(nproc) cores ($cpu_model), $mem_gib GiB memory, $(uname -sr)"
		echo "- Command: \`$command_line\` (that is \`bash bench/run.sh\`), seed $seed"
		echo "- Software: $(go env GOVERSION), duckdb-go $duckdb_go; DuckDB with its default threads (one per core) and memory limit"
		echo "- Each run: \`bin/kalla reconcile --recipe bench/data/SIZE/recipe-FORMAT.json --out bench/data/out/SIZE-FORMAT --json\`"
		echo "  (Parquet evidence) under \`/usr/bin/time -v\`; the floor is \`bench/cmd/floor\` on the same files, right after,"
		echo "  then \`bench/cmd/floor --evidence DIR\`. Sizes up to $round_size invoices run $bench_rounds rounds of the three"
		echo "  in turn, larger ones one: the main table gives the rounds' medians (of wall times, and of the ratios of"
		echo "  each round's own times), the largest peak RSSs, and the CPU seconds of the round of the median Kalla wall time."
		echo
		echo "Rows in = invoices + payments. Wall time is the whole process, CSV schema inference included;"
		echo "the floor's time is one DuckDB query from opening the database to the pair count (it writes nothing)."
		echo "The floor + evidence is the same rule as a hand-written script that also delivers the answer: each file read"
		echo "once into a table, then matched.parquet (a row per pair), unmatched_invoices.parquet and unmatched_payments.parquet"
		echo "(full rows) in key order. The issue's target (kalla/floor <= 1.5) is against the first floor."
		echo "Pairs = the exact rule's match groups (Kalla) / the floor's pairs; they must be equal."
		echo "CPU s = user + system seconds of the process. Others = the share of the machine's CPU capacity"
		echo "that other processes used during Kalla's run: well above 0% means other work competed and the"
		echo "wall times are inflated; CPU seconds suffer less from that."
		echo
		echo "| invoices | format | rows in | kalla wall s | rows/s | peak RSS MiB | floor s | floor RSS MiB | kalla/floor | floor + evidence s | kalla/(floor + evidence) | pairs kalla / floor / floor + evidence | kalla CPU s | floor CPU s | others | rounds: kalla / floor s |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"
		printf '%s\n' "${main_rows[@]}"
		echo
		local fmt ratio_lines=()
		for fmt in csv parquet; do
			if [[ -n ${rss_of[10000000-$fmt]:-} && -n ${rss_of[1000000-$fmt]:-} ]]; then
				ratio_lines+=("- $fmt: $(calc '%.2f' "${rss_of[10000000-$fmt]} / ${rss_of[1000000-$fmt]}") (${rss_of[10000000-$fmt]} MiB / ${rss_of[1000000-$fmt]} MiB)")
			fi
		done
		if [[ -n ${rss_of[10000000-limited]:-} && -n ${rss_of[1000000-limited]:-} ]]; then
			ratio_lines+=("- csv with \`--memory-limit $memory_limit\`: $(calc '%.2f' "${rss_of[10000000-limited]} / ${rss_of[1000000-limited]}") (${rss_of[10000000-limited]} MiB / ${rss_of[1000000-limited]} MiB)")
		fi
		if ((${#ratio_lines[@]} > 0)); then
			echo "Peak memory, 10M invoices over 1M invoices (without a limit DuckDB may use up to 80% of the machine's memory):"
			echo
			printf '%s\n' "${ratio_lines[@]}"
		else
			echo "Peak memory, 10M over 1M invoices: not measured (both sizes are needed)."
		fi
		echo
		echo "## Where Kalla's time goes"
		echo
		echo "From \`summary.json\`'s \`timings_ms\`: load (read, cast, key check, numbering), match (rules and near misses),"
		echo "write (evidence files); \"before\" = total - load - match - write (recipe, CSV schema inference in Go, plan);"
		echo "\"process\" = wall - total (start-up, exit)."
		echo
		echo "| invoices | format | recipe | before s | load s | match s | write s | total s | process s |"
		echo "|---:|---|---|---:|---:|---:|---:|---:|---:|"
		printf '%s\n' "${phase_rows[@]}"
		echo
		if ((${#limit_rows[@]} > 0)); then
			echo "## CSV with \`--memory-limit $memory_limit\`"
			echo
			echo "| invoices | rows in | kalla wall s | rows/s | peak RSS MiB | kalla CPU s | others |"
			echo "|---:|---:|---:|---:|---:|---:|---:|"
			printf '%s\n' "${limit_rows[@]}"
			echo
		fi
		echo "## Both rules (recipe-full-csv.json: \`exact\` 1:1, then \`split\` 1:N with an aggregate)"
		echo
		if ((${#full_rows[@]} > 0)); then
			echo "| invoices | rows in | kalla wall s | rows/s | peak RSS MiB | exact groups | split groups | expected (generator) | kalla CPU s | others |"
			echo "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
			printf '%s\n' "${full_rows[@]}"
		else
			echo "Not run: $full_size is not among the sizes."
		fi
		echo
		echo "## One currency (recipe-csv.json with both sources filtered to \`currency eq GBP\`)"
		echo
		if ((${#one_currency_rows[@]} > 0)); then
			echo "The filter's records left out are counted by Kalla's CSV reader as it infers the types; the engine reads"
			echo "only the records kept. The unfiltered run is the main table's, in the same run."
			echo
			echo "| invoices | rows in | kept invoices / payments | left out invoices / payments | kalla wall s | rows in/s | unfiltered wall s | peak RSS MiB | exact groups | kalla CPU s | others |"
			echo "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
			printf '%s\n' "${one_currency_rows[@]}"
		else
			echo "Not run: $full_size is not among the sizes."
		fi
		echo
		echo "## Shapes (bench/cmd/shapes: 1,000 customers; coarse, banded, ordered, compared, timed, loose, blocks and apart: 3; skewed: 45,001; few: 10,000)"
		echo
		if ((${#shapes_rows[@]} > 0)); then
			echo "A 1:1 rule takes the pairs that are the first choice of both their records, round after round, until a round"
			echo "takes less than half of the candidates left; then it walks the rest in order, in one pass (walked: the pairs it"
			echo "kept). An M:N rule passes group labels along its pairs, round after round; near misses compare each unmatched"
			echo "record with every record sharing its keys. Rounds, pairs walked and the near misses' seconds come from the run's"
			echo "trace (\`KALLA_TRACE_SQL=1\`); rounds do not depend on the machine. keys: how the engine judged the rule's keys from a"
			echo "sample of each side (coarse: more than 16 pairs sharing keys a record; then bands and the nearest values). ties: 50 invoices and 50 payments of one fee per customer, 1:1 on the"
			echo "customer and the amount (every pair of a customer ties); chains: 200 invoices and 200 payments a customer, one"
			echo "a day, M:N on the customer within a day (a customer's records are one chain); paths: 50 invoices of 100.00,"
			echo "101.00, ... and 50 payments of 100.50, 101.50, ... a customer, 1:1 on the customer and the amount within 1 (each"
			echo "invoice ties with the payments above and below it: a path, which rounds would take a pair at a time); crowds:"
			echo "50 invoices and 50 payments a customer, 1:1 on the customer and the amount within a cent, none within it (each"
			echo "record's near miss is chosen among 50); coarse: crowds of 3 customers, 5,000 invoices and 5,000 payments each, as"
			echo "coarse a key as a currency (each record's near miss is the nearest of 5,000 amounts); skewed: coarse's amounts,"
			echo "one customer of 5,000 invoices and 5,000 payments among 45,000 of one each (nearly as many keys as records, and"
			echo "25 million pairs sharing a key); banded: coarse's records a day apart, 1:1 on the customer, the amount within a"
			echo "cent and the day within 30 (each record's near miss is sought among the records within 30 days); ordered:"
			echo "banded's records, 1:1 on the customer, the amount within a cent and the invoice's day on or after the payment's"
			echo "(each record's near miss is found within a widening radius: its closest within a cent, then 16 cents, ...); compared:"
			echo "ordered's records and conditions, the day's first (the records passing every condition first, then by lookups: the"
			echo "records in the amount's bands and those at the nearest days); timed: compared's with times of day, the invoice's half"
			echo "a second after the payment's of its day (lookups at the nearest times); loose: 3 customers of 5,000 invoices of"
			echo "100.00, 100.02, ... and 5,000 payments of 100.01, 100.03, ..., 1:1 on the customer, the invoice's amount at or above"
			echo "the payment's and within 5 (250 candidates an invoice; stages: how many stages of a 1:1 rule under coarse keys ran,"
			echo "each making only the candidates of the records left within a radius: the same value, a cent, 16 cents, ...; the"
			echo "pairs equal in every condition, where each condition ranks only equal values 0, are a stage of their own, first,"
			echo "as in ties); blocks: 3 customers of 5,000 invoices and 5,000 payments of 10 fees, 1:1 on the customer and the amount"
			echo "(blocks of 500 a side that all tie, paired in key order without making their 7.5 million pairs); apart: banded's"
			echo "amounts and rule, the invoices dated from 2000 and the payments from 2020 (every pair fails both conditions: each"
			echo "record's near miss is at its nearest amounts, found by lookups once the rounds and the bands settle none); few:"
			echo "10,000 customers of 10 invoices and 10 payments, banded's records and rule (keys not coarse; each near miss is chosen"
			echo "among 10 by an aggregate)."
			echo
			echo "| book | records in | keys | rounds | walked | stages | groups (expected) | match s | near misses s | kalla wall s | peak RSS MiB | kalla CPU s | others |"
			echo "|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
			printf '%s\n' "${shapes_rows[@]}"
		else
			echo "Not run (BENCH_SHAPES=0), or not yet."
		fi
		echo
		echo "The book (bench/cmd/gen): per invoice ~60% paid exactly, ~15% paid within 2% (never exactly),"
		echo "~5% paid in two halves quoting the invoice, ~20% unpaid; plus payments numbering 10% of the"
		echo "invoices that quote a purchase order (no invoice); payments shuffled."
		if [[ -f $pipeline ]]; then
			echo
			cat "$pipeline"
		fi
		if [[ -s $notes ]]; then
			echo
			cat "$notes"
		fi
	} >"$results"
}

# phase_row SIZE FORMAT RECIPE SUMMARY WALL
phase_row() {
	local t
	t=$(jq -r '.timings_ms | [.load, .match, .write, .total] | @tsv' "$4")
	read -r load match write total <<<"$t"
	phase_rows+=("| $1 | $2 | $3 | $(calc '%.2f' "($total - $load - $match - $write) / 1000") | $(calc '%.2f' "$load / 1000") | $(calc '%.2f' "$match / 1000") | $(calc '%.2f' "$write / 1000") | $(calc '%.2f' "$total / 1000") | $(calc '%.2f' "$5 - $total / 1000") |")
}

# --- runs --------------------------------------------------------------------

warmed_up=false
for n in $sizes; do
	dir=$data/$n
	log "$n invoices: data in $dir"
	"$tools/gen" --invoices "$n" --seed "$seed" --out "$dir" --reuse >/dev/null
	if ! $warmed_up && ((n <= 1000000)); then # one unmeasured run, so the first measured one is not the coldest
		bin/kalla reconcile --recipe "$dir/recipe-csv.json" --out "$data/out/warm-up" --json >/dev/null
		warmed_up=true
	fi
	rows_in=$(jq '.invoices + .payments' "$dir/manifest.json")
	expected_pairs=$(jq '.exact_pairs' "$dir/manifest.json")
	expected_split=$(jq '.split_groups' "$dir/manifest.json")

	rounds=1
	((n <= round_size)) && rounds=$bench_rounds
	for fmt in csv parquet; do
		walls=() cpus=() others_seen=() floors=() floor_cpus=() evidences=() ratios=() evidence_ratios=() pairs_seen=()
		rss_max=0 floor_rss=0
		for ((round = 1; round <= rounds; round++)); do
			log "$n invoices, $fmt, round $round of $rounds: kalla"
			measure "kalla-$n-$fmt-$round" bin/kalla reconcile --recipe "$dir/recipe-$fmt.json" --out "$data/out/$n-$fmt" --json
			walls+=("$wall") cpus+=("$cpu") others_seen+=("$others")
			((rss > rss_max)) && rss_max=$rss
			kalla_pairs=$(jq '.rules[] | select(.name == "exact") | .groups' "$runs/kalla-$n-$fmt-$round.out")
			echo "kalla: ${wall}s, $rss MiB, $kalla_pairs pairs" >&2

			log "$n invoices, $fmt, round $round of $rounds: floor"
			measure "floor-$n-$fmt-$round" "$tools/floor" --invoices "$dir/invoices.$fmt" --payments "$dir/payments.$fmt"
			floors+=("$(jq '.seconds' "$runs/floor-$n-$fmt-$round.out")") floor_cpus+=("$cpu")
			((rss > floor_rss)) && floor_rss=$rss
			ratios+=("$(calc '%.4f' "${walls[-1]} / ${floors[-1]}")")
			floor_pairs=$(jq '.pairs' "$runs/floor-$n-$fmt-$round.out")
			echo "floor: $(calc '%.2f' "${floors[-1]}")s, $rss MiB, $floor_pairs pairs" >&2

			log "$n invoices, $fmt, round $round of $rounds: floor + evidence"
			measure "floor-evidence-$n-$fmt-$round" "$tools/floor" --invoices "$dir/invoices.$fmt" --payments "$dir/payments.$fmt" --evidence "$data/out/floor-$n-$fmt"
			evidences+=("$(jq '.seconds' "$runs/floor-evidence-$n-$fmt-$round.out")")
			evidence_ratios+=("$(calc '%.4f' "${walls[-1]} / ${evidences[-1]}")")
			evidence_pairs=$(jq '.pairs' "$runs/floor-evidence-$n-$fmt-$round.out")
			echo "floor + evidence: $(calc '%.2f' "${evidences[-1]}")s, $rss MiB, $evidence_pairs pairs" >&2
			pairs_seen+=("$kalla_pairs / $floor_pairs / $evidence_pairs")
		done
		# The round whose Kalla wall time is the median gives the phases and CPU seconds.
		mid=$(median_index "${walls[@]}")
		kalla_wall=${walls[mid]} summary=$runs/kalla-$n-$fmt-$((mid + 1)).out
		rss_of["$n-$fmt"]=$rss_max wall_of["$n-$fmt"]=$kalla_wall
		phase_row "$n" "$fmt" exact "$summary" "$kalla_wall"

		pairs=${pairs_seen[0]}
		read -r kalla_pairs floor_pairs evidence_pairs < <(tr -d '/' <<<"$pairs")
		if [[ $(printf '%s\n' "${pairs_seen[@]}" | sort -u | wc -l) != 1 ]]; then
			mismatch "$n invoices, $fmt: the rounds found different pairs: ${pairs_seen[*]}"
			pairs="**MISMATCH** ${pairs_seen[*]}"
		elif [[ $kalla_pairs != "$floor_pairs" || $kalla_pairs != "$evidence_pairs" ]]; then
			mismatch "$n invoices, $fmt: kalla matched $kalla_pairs pairs, the floor $floor_pairs, the floor + evidence $evidence_pairs"
			pairs="**MISMATCH** $pairs"
		elif [[ $kalla_pairs != "$expected_pairs" ]]; then
			mismatch "$n invoices, $fmt: kalla and the floor matched $kalla_pairs pairs, the generator made $expected_pairs"
			pairs="**MISMATCH** $pairs (generator: $expected_pairs)"
		fi
		floor_s=$(median "${floors[@]}") evidence_s=$(median "${evidences[@]}")
		main_rows+=("| $n | $fmt | $rows_in | $kalla_wall | $(calc '%.0f' "$rows_in / $kalla_wall") | $rss_max | $(calc '%.2f' "$floor_s") | $floor_rss | $(calc '%.1f' "$(median "${ratios[@]}")") | $(calc '%.2f' "$evidence_s") | $(calc '%.1f' "$(median "${evidence_ratios[@]}")") | $pairs | ${cpus[mid]} | ${floor_cpus[mid]} | ${others_seen[mid]} | $(spread "${walls[@]}") / $(spread "${floors[@]}") |")
	done

	if [[ -n $memory_limit ]]; then
		log "$n invoices, csv: kalla with --memory-limit $memory_limit"
		measure "kalla-$n-limited" bin/kalla reconcile --recipe "$dir/recipe-csv.json" --out "$data/out/$n-limited" --json --memory-limit "$memory_limit"
		rss_of["$n-limited"]=$rss
		limit_rows+=("| $n | $rows_in | $wall | $(calc '%.0f' "$rows_in / $wall") | $rss | $cpu | $others |")
	fi

	if [[ $n == "$full_size" ]]; then
		log "$n invoices, csv: kalla, both rules"
		measure "kalla-$n-full-csv" bin/kalla reconcile --recipe "$dir/recipe-full-csv.json" --out "$data/out/$n-full-csv" --json
		summary=$runs/kalla-$n-full-csv.out
		phase_row "$n" csv "exact + split" "$summary" "$wall"
		exact=$(jq '.rules[] | select(.name == "exact") | .groups' "$summary")
		split=$(jq '.rules[] | select(.name == "split") | .groups' "$summary")
		expected="$expected_pairs / $expected_split"
		if [[ $exact != "$expected_pairs" || $split != "$expected_split" ]]; then
			mismatch "$n invoices, both rules: kalla matched $exact exact and $split split groups, the generator made $expected"
			expected="**MISMATCH** $expected"
		fi
		full_rows+=("| $n | $rows_in | $wall | $(calc '%.0f' "$rows_in / $wall") | $rss | $exact | $split | $expected | $cpu | $others |")

		log "$n invoices, csv: kalla, one currency"
		gbp='[{"column": "currency", "op": "eq", "value": "GBP"}]'
		jq --argjson f "$gbp" '.recipe_id = "bench-gbp-csv" | .sources.left.filter = $f | .sources.right.filter = $f' \
			"$dir/recipe-csv.json" >"$dir/recipe-gbp-csv.json"
		measure "kalla-$n-gbp-csv" bin/kalla reconcile --recipe "$dir/recipe-gbp-csv.json" --out "$data/out/$n-gbp-csv" --json
		summary=$runs/kalla-$n-gbp-csv.out
		phase_row "$n" csv "exact, GBP" "$summary" "$wall"
		read -r kept_l out_l kept_r out_r exact < <(jq -r '[.left.rows, .left.filtered_out, .right.rows, .right.filtered_out,
			(.rules[] | select(.name == "exact") | .groups)] | @tsv' "$summary")
		counts="$kept_l / $kept_r"
		if ((kept_l + out_l != $(jq '.invoices' "$dir/manifest.json") || kept_r + out_r != $(jq '.payments' "$dir/manifest.json"))); then
			mismatch "$n invoices, one currency: kept + left out are $((kept_l + out_l)) invoices and $((kept_r + out_r)) payments, not the book's"
			counts="**MISMATCH** $counts"
		fi
		one_currency_rows+=("| $n | $rows_in | $counts | $out_l / $out_r | $wall | $(calc '%.0f' "$rows_in / $wall") | ${wall_of["$n-csv"]} | $rss | $exact | $cpu | $others |")
	fi
	write_results "running"
done

# Shapes of data that cost the engine more than the book does: rounds, and
# near misses among many records sharing a key.
if [[ ${BENCH_SHAPES:-1} == 1 ]]; then
	log "shapes: ties, chains, paths, crowds, coarse, skewed, banded, ordered, compared, timed, loose, blocks, apart and few"
	"$tools/shapes" --out "$data/shapes" >/dev/null
	for book in ties chains paths crowds coarse skewed banded ordered compared timed loose blocks apart few; do
		dir=$data/shapes/$book
		measure "kalla-shapes-$book" env KALLA_TRACE_SQL=1 bin/kalla reconcile --recipe "$dir/recipe.json" --out "$data/out/shapes-$book" --json 2>"$runs/kalla-shapes-$book.trace"
		summary=$runs/kalla-shapes-$book.out
		# One statement a round: a 1:1 rule's that takes pairs, an M:N rule's that follows labels.
		round_statement=
		case $book in
		ties) expected=$(jq '.tie_pairs' "$data/shapes/manifest.json") round_statement='INSERT INTO kalla_pairs' ;;
		chains) expected=$(jq '.chain_groups' "$data/shapes/manifest.json") round_statement='kalla_labels AS SELECT a.lid' ;;
		paths) expected=$(jq '.path_pairs' "$data/shapes/manifest.json") round_statement='INSERT INTO kalla_pairs' ;;
		crowds) expected=$(jq '.crowd_groups' "$data/shapes/manifest.json") ;;
		coarse) expected=$(jq '.coarse_groups' "$data/shapes/manifest.json") ;;
		skewed) expected=$(jq '.skewed_groups' "$data/shapes/manifest.json") ;;
		banded) expected=$(jq '.banded_groups' "$data/shapes/manifest.json") ;;
		ordered) expected=$(jq '.ordered_groups' "$data/shapes/manifest.json") ;;
		compared) expected=$(jq '.compared_groups' "$data/shapes/manifest.json") ;;
		timed) expected=$(jq '.timed_groups' "$data/shapes/manifest.json") ;;
		loose) expected=$(jq '.loose_groups' "$data/shapes/manifest.json") ;;
		blocks) expected=$(jq '.block_pairs' "$data/shapes/manifest.json") round_statement='INSERT INTO kalla_pairs' ;;
		apart) expected=$(jq '.apart_groups' "$data/shapes/manifest.json") ;;
		few) expected=$(jq '.few_groups' "$data/shapes/manifest.json") ;;
		esac
		rounds=-
		if [[ -n $round_statement ]]; then
			rounds=$(grep "$round_statement" "$runs/kalla-shapes-$book.trace" | grep -vc 'FROM kalla_walked' || true)
			if ((rounds == 0)); then
				mismatch "shapes, $book: no statement '$round_statement' in the trace (has the SQL changed?)"
			fi
		fi
		keys=$(awk '/ keys: about / { k = k (k ? "/" : "") ($NF == "true" ? "coarse" : "fine") } END { print k ? k : "-" }' "$runs/kalla-shapes-$book.trace")
		walked=$(awk '/ walk: [0-9]+ pairs kept/ { n += $4; w = 1 } END { print w ? n : "-" }' "$runs/kalla-shapes-$book.trace")
		stages=$(grep -c ' stage .* taken$' "$runs/kalla-shapes-$book.trace" || true)
		near=$(awk '/INSERT INTO kalla_near/ { sub("ms", "", $2); s += $2 } END { printf "%.2f", s / 1000 }' "$runs/kalla-shapes-$book.trace")
		groups=$(jq '.match_groups' "$summary")
		records=$(jq '.left.rows + .right.rows' "$summary")
		if [[ $groups != "$expected" ]]; then
			mismatch "shapes, $book: kalla matched $groups groups, the generator made $expected"
			expected="**MISMATCH** $expected"
		fi
		shapes_rows+=("| $book | $records | $keys | $rounds | $walked | $stages | $groups ($expected) | $(calc '%.2f' "$(jq '.timings_ms.match' "$summary") / 1000") | $near | $wall | $rss | $cpu | $others |")
	done
fi

if ((mismatches > 0)); then
	write_results "finished with $mismatches MISMATCH(ES)"
	log "$mismatches MISMATCH(ES): see above and $results"
	exit 1
fi
write_results "finished"

# The pipeline: every service a separate process, PostgreSQL left source.
if [[ ${BENCH_PIPELINE:-1} == 1 ]]; then
	log "pipeline: ${BENCH_PIPELINE_INVOICES:-1000000} invoices in PostgreSQL, 1 and 2 stagers, tiny-run latency"
	KALLA_BENCH_OUT="$PWD/$pipeline" KALLA_BENCH_INVOICES="${BENCH_PIPELINE_INVOICES:-1000000}" \
		go test ./services/kalla/ -run TestPipelineBenchmark -count=1 -timeout 60m
	write_results "finished"
fi
log "results in $results"
cat "$results"
