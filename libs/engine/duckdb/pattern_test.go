package duckdb_test

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	kallav1 "github.com/kallahq/kalla/gen/kalla/v1"
	"github.com/kallahq/kalla/libs/engine/duckdb"
	"github.com/kallahq/kalla/libs/evidence"
)

// TestCSVPattern: a side whose records a pattern names in several files,
// each laid out in its own way, reconciles as the one file holding them
// all in turn: the same matches, near misses and evidence, and a side
// without a key numbers its records through the files in the order of
// their names. The side is big enough that DuckDB splits each file's
// reading among its threads (see duckdb.Parallel).
func TestCSVPattern(t *testing.T) {
	t.Parallel()
	rule := "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}, {left: amount, op: tolerance, right: amount, threshold: 0.05}]}\n"
	left, right := patternBook(6000)
	// Each file's records are a run of the whole file's, in its order.
	layouts := []func(header string, rows []string) string{
		func(h string, rows []string) string { return h + "\n" + strings.Join(rows, "\n") + "\n" },
		func(h string, rows []string) string {
			return "sep=;\r\n" + strings.ReplaceAll(h+"\r\n"+strings.Join(rows, "\r\n")+"\r\n", ",", ";")
		},
		// Blank lines among mixed line ends: the engine reads a rewrite.
		func(h string, rows []string) string { return "\n\r\n" + h + "\r\n" + strings.Join(rows, "\n") + "\n" },
	}
	// A filter on a side without a key reads it whole first, numbering
	// its records before leaving some out.
	for _, side := range []struct{ name, fields string }{{"keyed", ", primary_key: [id]"}, {"keyless", ""},
		{"keyless_filtered", `, filter: [{column: memo, op: ne, value: "memo 7"}, {column: amount, op: gte, value: 2}]`}} {
		recipe := strings.Replace(recipeYAML(rule), `uri: "file://left.csv", primary_key: [id]}`, `uri: "file://left.csv"`+side.fields+"}", 1)
		dir := writeFiles(t, left, right, recipe)
		lines := strings.Split(strings.TrimSuffix(left, "\n"), "\n")
		rows := lines[1:]
		// Named so that byte order is not the order of the numbers (left-10
		// before left-9): only the names' order counts.
		stems := []string{"left-10", "left-11", "left-9"}
		for i, layout := range layouts {
			name := stems[i] + ".csv"
			part := []byte(layout(lines[0], rows[i*len(rows)/len(layouts):(i+1)*len(rows)/len(layouts)]))
			if err := os.WriteFile(filepath.Join(dir, name), part, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".gz"), gzipped(t, part), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			name, pattern string
			set           func(*duckdb.Engine)
		}{{"default", "left-*.csv", func(*duckdb.Engine) {}}, {"parallel", "left-*.csv", duckdb.Parallel}, {"gzipped", "left-*.csv.gz", func(*duckdb.Engine) {}}} {
			parts := filepath.Join(dir, "recipe-"+tt.name+".yaml")
			if err := os.WriteFile(parts, []byte(strings.Replace(strings.TrimLeft(recipe, "\n"), "file://left.csv", "file://"+tt.pattern, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			w := way{tt.name, tt.set}
			t.Run(side.name+"_"+w.name, func(t *testing.T) {
				t.Parallel()
				engine := func() *duckdb.Engine { e := &duckdb.Engine{Threads: 2}; w.set(e); return e }
				whole, err := runRecipeOn(t, filepath.Join(dir, "recipe.yaml"), engine())
				if err != nil {
					t.Fatal(err)
				}
				split, err := runRecipeOn(t, parts, engine())
				if err != nil {
					t.Fatal(err)
				}
				if len(whole.matched) == 0 || len(whole.unmatchedLeft) == 0 {
					t.Fatalf("the book has %d matched rows and %d unmatched left: it tests nothing", len(whole.matched), len(whole.unmatchedLeft))
				}
				if !strings.Contains(side.fields, "primary_key") && whole.unmatchedLeft[0]["kalla_row"] == "" {
					t.Fatal("a side without a key has no kalla_row")
				}
				if strings.Contains(side.fields, "filter") && whole.summary.Left.FilteredOut == 0 {
					t.Fatal("the filter left nothing out: it tests nothing")
				}
				if !strings.Contains(side.fields, "primary_key") {
					// Each of the three files holds a third of the records;
					// the right side's members are keyed, in one file.
					for _, u := range append(slices.Clone(split.unmatchedLeft), split.matched...) {
						file, fileRow := "", ""
						if row, err := strconv.Atoi(cmp.Or(u["kalla_row"], u["key"])); u["side"] != "right" && err == nil {
							file, fileRow = stems[(row-1)/2000]+strings.TrimPrefix(tt.pattern, "left-*"), strconv.Itoa((row-1)%2000+1)
						}
						if u["kalla_file"] != file || u["kalla_file_row"] != fileRow {
							t.Fatalf("record %v is in %s %s, want %s %s", u, u["kalla_file"], u["kalla_file_row"], file, fileRow)
						}
						delete(u, "kalla_file")
						delete(u, "kalla_file_row")
					}
					// The right side's near misses among the left's records.
					for _, u := range split.unmatchedRight {
						file, fileRow := "", ""
						if row, err := strconv.Atoi(u["kalla_near_key"]); err == nil {
							file, fileRow = stems[(row-1)/2000]+strings.TrimPrefix(tt.pattern, "left-*"), strconv.Itoa((row-1)%2000+1)
						}
						if u["kalla_near_file"] != file || u["kalla_near_file_row"] != fileRow {
							t.Fatalf("near miss %v is in %s %s, want %s %s", u, u["kalla_near_file"], u["kalla_near_file_row"], file, fileRow)
						}
						delete(u, "kalla_near_file")
						delete(u, "kalla_near_file_row")
					}
				}
				for name, pair := range map[string][2][]map[string]string{"matched": {whole.matched, split.matched},
					"unmatched_left": {whole.unmatchedLeft, split.unmatchedLeft}, "unmatched_right": {whole.unmatchedRight, split.unmatchedRight}} {
					if !reflect.DeepEqual(pair[0], pair[1]) {
						t.Errorf("%s differs: %d rows from the one file, %d from its parts; first of the parts': %v", name, len(pair[0]), len(pair[1]), first(pair[1]))
					}
				}
				// The summary lists the files read, with the records each held.
				var files []evidence.FileSummary
				for _, stem := range stems {
					files = append(files, evidence.FileSummary{Name: stem + strings.TrimPrefix(tt.pattern, "left-*"), Rows: 2000})
				}
				if !reflect.DeepEqual(split.summary.Left.Files, files) || whole.summary.Left.Files != nil {
					t.Errorf("files %+v from the parts (want %+v), %+v from the one file (want none)", split.summary.Left.Files, files, whole.summary.Left.Files)
				}
				split.summary.Left.Files = nil
				if whole.summary.Left.Rows+whole.summary.Left.FilteredOut != 6000 || !reflect.DeepEqual(whole.summary.Left, split.summary.Left) ||
					!reflect.DeepEqual(whole.summary.Rules, split.summary.Rules) {
					t.Errorf("summaries: %+v %+v from the one file, %+v %+v from its parts", whole.summary.Left, whole.summary.Rules, split.summary.Left, split.summary.Rules)
				}
			})
		}
	}
}

// patternBook is a left and a right CSV side of n invoices and fewer
// payments, many of one reference and amount (ties), the invoices in no
// order of their ids.
func patternBook(n int) (left, right string) {
	rng := rand.New(rand.NewPCG(7, 11))
	var l, r strings.Builder
	l.WriteString("id,ref,amount,memo\n")
	r.WriteString("id,ref,amount\n")
	for i, id := range rng.Perm(n) {
		ref, cents := fmt.Sprintf("R%04d", rng.IntN(n/3)), 100+rng.IntN(500)
		fmt.Fprintf(&l, "%d,%s,%d.%02d,memo %d\n", id+1, ref, cents/100, cents%100, i)
		if rng.IntN(10) < 7 {
			cents += rng.IntN(11) - 5
			fmt.Fprintf(&r, "%d,%s,%d.%02d\n", 100000+i, ref, cents/100, cents%100)
		}
	}
	return l.String(), r.String()
}

func first(rows []map[string]string) map[string]string {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// TestAgainstOracleFromParts: random cases whose sides are split among
// files of several layouts, named by patterns, give the oracle's result
// from the whole files: a column's type is inferred over every part (a
// scale, a date or a text value seen in one part alone is the column's),
// and a part may hold no record at all. Half the sides' files have no
// header row, the recipe naming their columns.
func TestAgainstOracleFromParts(t *testing.T) {
	t.Parallel()
	const seeds, scale = 16, 3
	for seed := int64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed_%d_%s", seed, loads[seed%2].name), func(t *testing.T) {
			t.Parallel()
			r, want := scaledCase(t, seed, scale)
			rng := rand.New(rand.NewPCG(uint64(seed), 3))
			for _, src := range []*kallav1.Source{r.GetSources().GetLeft(), r.GetSources().GetRight()} {
				var header []string
				src.Uri, header = splitCSV(t, strings.TrimPrefix(src.GetUri(), "file://"), rng)
				src.Uri = "file://" + src.Uri
				if header == nil {
					continue
				}
				src.Columns = header
			}
			compare(t, r, engineResult(t, r, loads[seed%2].set), want)
		})
	}
}

// splitCSV writes the records of the CSV file at path into one to five
// files beside it, each laid out in its own way (separated by commas or,
// after a sep= line, semicolons; lines ending in \n or \r\n; a blank line
// before the header; gzipped), and returns the pattern naming them. Half
// the time the files have no header row, and it returns the header's
// names for the recipe to give; a file of semicolons then goes without its
// sep= line half the time, its separator found by the number of fields.
func splitCSV(t *testing.T, path string, rng *rand.Rand) (string, []string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows := records[0], records[1:]
	headerless := rng.IntN(2) == 0
	ext := []string{".csv", ".csv.gz"}[rng.IntN(2)]
	n := 1 + rng.IntN(5)
	for i := range n {
		var b bytes.Buffer
		if rng.IntN(3) == 0 {
			b.WriteString("\r\n") // with \n line ends: read from a rewrite
		}
		w := csv.NewWriter(&b)
		if rng.IntN(2) == 0 {
			w.Comma = ';'
			if !headerless || rng.IntN(2) == 0 {
				b.WriteString("sep=;\n")
			}
		}
		w.UseCRLF = rng.IntN(2) == 0
		part := rows[i*len(rows)/n : (i+1)*len(rows)/n]
		if !headerless {
			part = append([][]string{header}, part...)
		}
		if err := w.WriteAll(part); err != nil {
			t.Fatal(err)
		}
		text := b.Bytes()
		if ext == ".csv.gz" {
			text = gzipped(t, text)
		}
		if err := os.WriteFile(fmt.Sprintf("%s-part-%02d%s", strings.TrimSuffix(path, ".csv"), i, ext), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pattern := strings.TrimSuffix(path, ".csv") + "-part-*" + ext
	if headerless {
		return pattern, header
	}
	return pattern, nil
}

// TestFileOfUnmatched: the unmatched records of a source without a key
// read from several files name their file and their record's number
// there, counted past files without records.
func TestFileOfUnmatched(t *testing.T) {
	t.Parallel()
	path := parquetBook(t, "SELECT 1 AS id, 'X' AS ref", []string{
		"SELECT * FROM (VALUES (10, 'A'), (11, 'B')) t(id, ref)",
		"SELECT 12 AS id, 'C' AS ref WHERE false",
		"SELECT * FROM (VALUES (13, 'D'), (14, 'E'), (15, 'F')) t(id, ref)",
	}, "  - {name: t, pattern: \"1:1\", conditions: [{left: ref, op: eq, right: ref}]}\n")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keyless := strings.Replace(string(text), `uri: "file://right", primary_key: [id]`, `uri: "file://right"`, 1)
	if err := os.WriteFile(path, []byte(keyless), 0o644); err != nil || keyless == string(text) {
		t.Fatalf("no keyless right side (%v):\n%s", err, text)
	}
	o := mustRun(t, path)
	var got []string
	for _, u := range o.unmatchedRight {
		got = append(got, fmt.Sprintf("%s %s: %s %s", u["kalla_row"], u["ref"], u["kalla_file"], u["kalla_file_row"]))
	}
	want := []string{"1 A: part-00000.parquet 1", "2 B: part-00000.parquet 2", "3 D: part-00002.parquet 1", "4 E: part-00002.parquet 2", "5 F: part-00002.parquet 3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unmatched right:\n got %q\nwant %q", got, want)
	}
	if _, ok := o.unmatchedLeft[0]["kalla_file"]; ok {
		t.Errorf("a keyed source of one file got a file column: %v", o.unmatchedLeft[0])
	}
}

// TestFileOfMatched: the members of matches from a source without a key
// read from several files name their file and their record's number there,
// in pairs (1:1) and in groups (M:N), and so do the near misses of the
// other side's unmatched records; a keyed source's records name none.
func TestFileOfMatched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"l-1.csv": "ref,grp,amt\nA,g1,1\nB,g1,1\n", "l-2.csv": "ref,grp,amt\n", "l-3.csv": "ref,grp,amt\nC,g2,1\nZ,g9,5\n",
		"r-1.csv": "ref,grp,amt\nB,g0,1\nQ,g2,1\n", "r-2.csv": "ref,grp,amt\nA,g0,1\nP,g2,1\nY,g9,7\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recipe := func(leftKey string) string {
		path := filepath.Join(dir, "recipe"+leftKey+".yaml")
		text := `recipe_id: files
sources:
  left: {alias: l, uri: "file://l-*.csv"` + leftKey + `}
  right: {alias: r, uri: "file://r-*.csv"}
match_rules:
  - {name: by_ref, pattern: "1:1", conditions: [{left: ref, op: eq, right: ref}]}
  - {name: by_grp, pattern: "M:N", conditions: [{left: grp, op: eq, right: grp}, {left: amt, op: tolerance, right: amt, threshold: 0}]}
`
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	members := func(o outcome) []string {
		var got []string
		for _, m := range o.matched {
			got = append(got, fmt.Sprintf("%s %s %s: %s %s", m["match_id"], m["side"], m["key"], m["kalla_file"], m["kalla_file_row"]))
		}
		return got
	}
	// Left rows: A 1, B 2, C 3, Z 4; right: B 1, Q 2, A 3, P 4, Y 5.
	want := []string{
		"1 left 1: l-1.csv 1", "1 right 3: r-2.csv 1",
		"2 left 2: l-1.csv 2", "2 right 1: r-1.csv 1",
		"3 left 3: l-3.csv 1", "3 right 2: r-1.csv 2", "3 right 4: r-2.csv 2",
	}
	// Z (left row 4) and Y (right row 5) share g9 but not amt: each is the
	// other's near miss.
	near := func(o outcome) []string {
		var got []string
		for _, u := range append(slices.Clone(o.unmatchedLeft), o.unmatchedRight...) {
			got = append(got, fmt.Sprintf("%s: %s %s %s", u["ref"], u["kalla_near_key"], u["kalla_near_file"], u["kalla_near_file_row"]))
		}
		return got
	}
	o := mustRun(t, recipe(""))
	if got := members(o); !reflect.DeepEqual(got, want) {
		t.Errorf("both sides without a key:\n got %q\nwant %q", got, want)
	}
	if got, want := near(o), []string{"Z: 5 r-2.csv 3", "Y: 4 l-3.csv 2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("near misses, both sides without a key: %q, want %q", got, want)
	}
	want = []string{
		"1 left A:  ", "1 right 3: r-2.csv 1",
		"2 left B:  ", "2 right 1: r-1.csv 1",
		"3 left C:  ", "3 right 2: r-1.csv 2", "3 right 4: r-2.csv 2",
	}
	o = mustRun(t, recipe(", primary_key: [ref]"))
	if got := members(o); !reflect.DeepEqual(got, want) {
		t.Errorf("the left keyed:\n got %q\nwant %q", got, want)
	}
	if got, want := near(o), []string{"Z: 5 r-2.csv 3", "Y: Z  "}; !reflect.DeepEqual(got, want) {
		t.Errorf("near misses, the left keyed: %q, want %q", got, want)
	}
	if _, ok := o.unmatchedRight[0]["kalla_near_file"]; ok {
		t.Errorf("near misses of a keyed source got a file column: %v", o.unmatchedRight[0])
	}
}
