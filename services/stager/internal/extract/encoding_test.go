package extract_test

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestChunkEncoding stages text as UTF-8 where the database gives new
// sessions another client encoding, as a LATIN1 database does by default.
func TestChunkEncoding(t *testing.T) {
	t.Parallel()
	db, _ := database(t, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET client_encoding = ''LATIN1''', current_database()); END $$;
		CREATE TABLE t (id int, name text);
		INSERT INTO t VALUES (1, 'Müller'), (2, 'Ørsted'), (3, 'plain')`)
	tbl := chunkTable(t, db, "public.t", tableSchema(t, db, "public.t"))
	var got []string
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	for tr.Next() {
		names := tr.RecordBatch().Column(1).(*array.String)
		for i := range names.Len() {
			got = append(got, names.Value(i))
		}
	}
	if want := []string{"Müller", "Ørsted", "plain"}; !slices.Equal(got, want) {
		t.Errorf("staged names = %q, want %q", got, want)
	}
}
