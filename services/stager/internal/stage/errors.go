package stage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kallahq/kalla/libs/engine"
	"github.com/kallahq/kalla/libs/pipeline"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/libs/source"
	"github.com/kallahq/kalla/services/stager/internal/extract"
)

// errUnsupported marks a column type extract cannot write.
var errUnsupported = errors.New("unsupported column type")

// sourceError classifies an error met while reading the source: a missing
// table, a type or value that cannot be converted, bad credentials or a
// missing database can never succeed and become poison marked as the
// input's fault (one attempt, with the reason); anything else (connection refused, a restart, S3 errors) is
// returned as it is, so the runner records a retry. The source password
// never appears in the result.
func sourceError(err error, dsn string) error {
	if err == nil || errors.Is(err, pipeline.ErrCancelled) || errors.Is(err, queue.ErrPoison) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return source.RedactError(err, dsn)
	}
	if permanent(err) {
		return queue.Poison(engine.MarkBadInput(source.RedactError(err, dsn)))
	}
	return source.RedactError(err, dsn)
}

func permanent(err error) bool {
	if errors.Is(err, extract.ErrBadValue) || errors.Is(err, errUnsupported) {
		return true
	}
	if source.Refused(err) {
		return true
	}
	// A data exception: a value the stage cannot convert.
	var pg *pgconn.PgError
	return errors.As(err, &pg) && strings.HasPrefix(pg.Code, "22")
}

// unsupported is the poison error of a column extract cannot write.
func unsupported(table, column, why string) error {
	return fmt.Errorf("%w: %s.%s: %s", errUnsupported, table, column, why)
}
