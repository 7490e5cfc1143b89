package testenv_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kallahq/kalla/libs/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestPostgres(t *testing.T) {
	t.Parallel()

	t.Run("sql_round_trip", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		conn := connect(t, testenv.Postgres(t))
		mustExec(t, conn, "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)")
		mustExec(t, conn, "INSERT INTO kv VALUES ($1, $2)", "greeting", "hello")

		var v string
		if err := conn.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", "greeting").Scan(&v); err != nil {
			t.Fatalf("select: %v", err)
		}
		if v != "hello" {
			t.Fatalf("got %q, want %q", v, "hello")
		}
	})

	t.Run("fresh_database_per_call", func(t *testing.T) {
		t.Parallel()
		a, b := testenv.Postgres(t), testenv.Postgres(t)
		if a == b {
			t.Fatalf("both calls returned %s", a)
		}
		dbA, dbB := currentDatabase(t, connect(t, a)), currentDatabase(t, connect(t, b))
		if dbA == dbB {
			t.Fatalf("both URLs connect to database %q", dbA)
		}
		var tables int
		if err := connect(t, a).QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Fatalf("fresh database has %d tables, want 0", tables)
		}
	})
}

func TestPostgresServer(t *testing.T) {
	t.Parallel()

	t.Run("restart_keeps_data", func(t *testing.T) {
		t.Parallel()
		pg := testenv.StartPostgres(t)
		url, err := pg.CreateDatabase("restart")
		if err != nil {
			t.Fatal(err)
		}
		conn := connect(t, url)
		mustExec(t, conn, "CREATE TABLE jobs (id int PRIMARY KEY)")
		mustExec(t, conn, "INSERT INTO jobs VALUES (42)")
		conn.Close(t.Context())

		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, url); err == nil {
			c.Close(ctx)
			t.Fatal("connect succeeded while the server was stopped")
		}

		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}
		var id int
		if err := connect(t, url).QueryRow(t.Context(), "SELECT id FROM jobs").Scan(&id); err != nil {
			t.Fatalf("select after restart: %v", err)
		}
		if id != 42 {
			t.Fatalf("got id %d after restart, want 42", id)
		}
	})
}

func TestNATS(t *testing.T) {
	t.Parallel()

	t.Run("work_queue_ack_empties_stream", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		js := jetStream(t, testenv.NATS(t).URL())
		stream := createJobsStream(t, js)
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:   "worker",
			AckPolicy: jetstream.AckExplicitPolicy,
		})
		if err != nil {
			t.Fatalf("create consumer: %v", err)
		}
		if _, err := js.Publish(ctx, "jobs.run", []byte("job-1"), jetstream.WithMsgID("job-1")); err != nil {
			t.Fatalf("publish: %v", err)
		}

		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		var got []string
		for msg := range batch.Messages() {
			got = append(got, string(msg.Data()))
			if err := msg.DoubleAck(ctx); err != nil {
				t.Fatalf("double ack: %v", err)
			}
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("fetch batch: %v", err)
		}
		if !slices.Equal(got, []string{"job-1"}) {
			t.Fatalf("fetched %q, want [job-1]", got)
		}
		if n := streamMsgs(t, stream); n != 0 {
			t.Fatalf("stream holds %d messages after ack, want 0", n)
		}
	})

	t.Run("duplicate_msg_id_is_flagged", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		js := jetStream(t, testenv.NATS(t).URL())
		createJobsStream(t, js)
		first, err := js.Publish(ctx, "jobs.run", []byte("a"), jetstream.WithMsgID("same"))
		if err != nil {
			t.Fatalf("first publish: %v", err)
		}
		second, err := js.Publish(ctx, "jobs.run", []byte("a"), jetstream.WithMsgID("same"))
		if err != nil {
			t.Fatalf("second publish: %v", err)
		}
		if first.Duplicate || !second.Duplicate {
			t.Fatalf("Duplicate flags: first=%v second=%v, want false, true", first.Duplicate, second.Duplicate)
		}
	})

	t.Run("restart_keeps_stream", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		ns := testenv.NATS(t)
		url := ns.URL()
		js := jetStream(t, url)
		createJobsStream(t, js)
		if _, err := js.Publish(ctx, "jobs.run", []byte("pending"), jetstream.WithMsgID("p-1")); err != nil {
			t.Fatalf("publish: %v", err)
		}

		if err := ns.Restart(); err != nil {
			t.Fatal(err)
		}
		if ns.URL() != url {
			t.Fatalf("URL changed across restart: %s -> %s", url, ns.URL())
		}
		stream, err := jetStream(t, ns.URL()).Stream(ctx, "JOBS")
		if err != nil {
			t.Fatalf("stream after restart: %v", err)
		}
		if n := streamMsgs(t, stream); n != 1 {
			t.Fatalf("stream holds %d messages after restart, want 1", n)
		}
	})
}

func TestS3(t *testing.T) {
	t.Parallel()

	t.Run("put_get_round_trip", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		srv := testenv.S3(t)
		client := srv.Client(t)
		want := []byte("payload \x00\xff with binary bytes")
		putObject(t, srv, "blobs/one.bin", want)

		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &srv.Bucket, Key: aws.String("blobs/one.bin")})
		if err != nil {
			t.Fatalf("get object: %v", err)
		}
		defer out.Body.Close()
		got, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("read object: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})

	t.Run("list_objects_v2_lists_written_keys", func(t *testing.T) {
		t.Parallel()
		srv := testenv.S3(t)
		want := []string{"a.txt", "dir/b.txt", "dir/sub/c.txt"}
		for _, key := range want {
			putObject(t, srv, key, []byte(key))
		}
		out, err := srv.Client(t).ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
		if err != nil {
			t.Fatalf("list objects: %v", err)
		}
		var got []string
		for _, obj := range out.Contents {
			got = append(got, aws.ToString(obj.Key))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("listed %q, want %q", got, want)
		}
	})

	t.Run("buckets_are_per_call", func(t *testing.T) {
		t.Parallel()
		if a, b := testenv.S3(t).Bucket, testenv.S3(t).Bucket; a == b {
			t.Fatalf("both calls returned bucket %q", a)
		}
	})

	t.Run("wrong_secret_is_rejected", func(t *testing.T) {
		t.Parallel()
		srv := testenv.S3(t)
		bad := *srv
		bad.SecretKey = strings.Repeat("x", len(srv.SecretKey))
		_, err := bad.Client(t).ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
		if err == nil {
			t.Fatal("request signed with a wrong secret succeeded")
		}
		var apiErr smithy.APIError
		var respErr *awshttp.ResponseError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "SignatureDoesNotMatch":
		case errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusForbidden:
		default:
			t.Fatalf("want SignatureDoesNotMatch or 403, got %v", err)
		}
		t.Logf("rejected as expected: %v", err)
	})
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func currentDatabase(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var db string
	if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&db); err != nil {
		t.Fatalf("current_database: %v", err)
	}
	return db
}

func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

func createJobsStream(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	stream, err := js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name:       "JOBS",
		Subjects:   []string{"jobs.>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: time.Minute,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	return stream
}

func streamMsgs(t *testing.T, stream jetstream.Stream) uint64 {
	t.Helper()
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

func putObject(t *testing.T, srv *testenv.S3Server, key string, body []byte) {
	t.Helper()
	_, err := srv.Client(t).PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: &srv.Bucket,
		Key:    &key,
		Body:   bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}
