package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"
)

// Auth is a connect interceptor that requires "Authorization: Bearer T"
// with T one of the configured tokens, for unary and streaming calls.
type Auth struct {
	hashes [][sha256.Size]byte
}

// NewAuth accepts the given tokens; empty ones are ignored.
func NewAuth(tokens []string) *Auth {
	a := &Auth{}
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			a.hashes = append(a.hashes, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

var (
	errNoToken  = errors.New("missing bearer token: send the header \"Authorization: Bearer <token>\"")
	errBadToken = errors.New("invalid bearer token")
)

// check compares in constant time: hashing first makes every comparison
// the same length, and every configured token is compared.
func (a *Auth) check(h http.Header) error {
	scheme, token, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return connect.NewError(connect.CodeUnauthenticated, errNoToken)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, want := range a.hashes {
		match |= subtle.ConstantTimeCompare(sum[:], want[:])
	}
	if match != 1 {
		return connect.NewError(connect.CodeUnauthenticated, errBadToken)
	}
	return nil
}

// WrapUnary implements connect.Interceptor.
func (a *Auth) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if !req.Spec().IsClient {
			if err := a.check(req.Header()); err != nil {
				return nil, err
			}
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor; clients pass through.
func (a *Auth) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (a *Auth) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := a.check(conn.RequestHeader()); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
