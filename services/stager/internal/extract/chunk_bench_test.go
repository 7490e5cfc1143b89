package extract_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/libs/testenv"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// benchRows is one chunk of the pipeline benchmark's invoices table.
const benchRows = 100_000

// BenchmarkChunk stages one chunk of the pipeline benchmark's invoices table
// (the same columns and values) and, alternating with it, copies the same
// rows with a raw text COPY: staging's target is half the raw COPY's speed.
//
//	go test ./services/stager/internal/extract -run '^$' -bench Chunk -count 5
func BenchmarkChunk(b *testing.B) {
	ctx := context.Background()
	db := testenv.Postgres(b)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE invoices (invoice_id text PRIMARY KEY, customer text, amount numeric(12,2), due date);
		INSERT INTO invoices SELECT 'INV-' || lpad(i::text, 7, '0'), 'C' || (i % 997), ((i::bigint * 7919) % 1000000) / 100.0, DATE '2024-01-01' + (i % 365)
		FROM generate_series(1, 100000) i`)
	if err == nil {
		_, err = conn.Exec(ctx, "VACUUM ANALYZE invoices")
	}
	if err != nil {
		b.Fatal(err)
	}
	ref, err := source.Parse(db + "&table=public.invoices")
	if err != nil {
		b.Fatal(err)
	}
	schema, err := source.PostgresSchema(ctx, ref)
	if err != nil {
		b.Fatal(err)
	}
	all := extract.Blocks{}
	var copying, staging time.Duration
	var out countingWriter
	for b.Loop() {
		t0 := time.Now()
		if _, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY invoices TO STDOUT"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		n, err := extract.Chunk(ctx, conn, "public.invoices", schema, all, "", &out, func() error { return nil })
		if err != nil || n != benchRows {
			b.Fatalf("chunk: %d rows, %v", n, err)
		}
		copying += t1.Sub(t0)
		staging += time.Since(t1)
	}
	b.ReportMetric(float64(copying.Milliseconds())/float64(b.N), "copy-ms/op")
	b.ReportMetric(float64(staging.Milliseconds())/float64(b.N), "chunk-ms/op")
	b.ReportMetric(float64(out)/float64(b.N), "parquet-bytes/op")
	b.ReportMetric(100*copying.Seconds()/staging.Seconds(), "%-of-copy")
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
