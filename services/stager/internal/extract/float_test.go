package extract_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

// TestChunkFloats stages float columns as the exact decimals their values
// print as, with the shortest text PostgreSQL prints even where the
// database asks for 15 digits (extra_float_digits = 0), and plain digits
// where it prints an exponent (1e+20).
func TestChunkFloats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, conn := database(t, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET extra_float_digits = 0', current_database()); END $$;
		CREATE TABLE t (id int, f8 float8, f4 float4);
		INSERT INTO t VALUES (1, 0.1::float8 + 0.2::float8, 0.1), (2, 1.1, 2.655), (3, NULL, NULL), (4, 1e20, 1.5e-7)`)
	// New sessions get the database's setting; source.Connect overrides it.
	schema := tableSchema(t, db, "public.t")
	if f8, f4 := schema.Columns[1], schema.Columns[2]; f8.TypeName() != "decimal(38,17)" || f4.TypeName() != "decimal(9,8)" {
		t.Fatalf("f8 %s, f4 %s; want decimal(38,17) and decimal(9,8)", f8.TypeName(), f4.TypeName())
	}
	tbl := chunkTable(t, db, "public.t", schema)
	var got []string
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			got = append(got, decimalText(rec.Column(1), i, 17)+" "+decimalText(rec.Column(2), i, 8))
		}
	}
	want := "0.30000000000000004 0.10000000|1.10000000000000000 2.65500000|NULL NULL|100000000000000000000.00000000000000000 0.00000015"
	if strings.Join(got, "|") != want {
		t.Errorf("staged floats:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}

	t.Run("nan_makes_the_column_unfit_text", func(t *testing.T) {
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (5, 'NaN', 1)"); err != nil {
			t.Fatal(err)
		}
		c, _ := tableSchema(t, db, "public.t").Column("f8")
		if c.Type != source.Text || c.Float || c.Unfit != "holds NaN, which is no number to compare exactly, in 1 row" {
			t.Errorf("f8 = %+v, want text with the reason it is unfit", c)
		}
	})
}

// database runs setup in a new database and returns its URL and a
// connection to it, closed when the test ends.
func database(t *testing.T, setup string) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	db := testenv.Postgres(t)
	conn, err := source.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	return db, conn
}

// tableSchema reads the schema of table in the database at db.
func tableSchema(t *testing.T, db, table string) source.Schema {
	t.Helper()
	ref, err := source.Parse(db + "&table=" + table)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := source.PostgresSchema(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// chunkTable stages table whole, as schema reads it, and returns the
// Parquet file written, released when the test ends.
func chunkTable(t *testing.T, db, table string, schema source.Schema) arrow.Table {
	t.Helper()
	ctx := context.Background()
	conn, err := source.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var out bytes.Buffer
	if _, err := extract.Chunk(ctx, conn, table, schema, extract.Blocks{}, "", &out, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	tbl, err := pqarrow.ReadTable(ctx, bytes.NewReader(out.Bytes()), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

func decimalText(a arrow.Array, i, scale int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return a.(*array.Decimal128).Value(i).ToString(int32(scale))
}
