// Package api serves the planner's RunService and RecipeService with
// connect-go: Connect, gRPC and gRPC-Web on one port, plus gRPC reflection,
// gRPC health and CORS for browsers.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/cors"

	"github.com/kallahq/kalla/gen/kalla/v1/kallav1connect"
	"github.com/kallahq/kalla/libs/jobs"
	"github.com/kallahq/kalla/libs/objstore"
	"github.com/kallahq/kalla/libs/queue"
	"github.com/kallahq/kalla/services/planner/internal/webui"
)

// Config is what the API needs from the service around it.
type Config struct {
	Pool      *pgxpool.Pool
	Publisher *queue.Publisher
	Log       *slog.Logger
	// Tokens are the accepted bearer tokens; empty means no authentication.
	Tokens []string
	// RunTimeout is a run's total time limit; 0 means none.
	RunTimeout time.Duration
	// ObjStore configures the S3 client used to read evidence.
	ObjStore objstore.Config
	// PollInterval is WatchRun's fallback poll, in case a notification is
	// missed; default 2s.
	PollInterval time.Duration
	// EvidenceCacheBytes bounds the local copies of evidence files that
	// ListMatches and ListUnmatched page through; default 1 GiB.
	EvidenceCacheBytes int64
	// WorkbookConversions bounds the Excel workbooks written at once for
	// downloads (one of a million rows takes seconds of CPU); default half
	// the CPUs, at least 1. Later downloads wait their turn.
	WorkbookConversions int
}

// Server implements kallav1connect.RunServiceHandler and
// kallav1connect.RecipeServiceHandler.
type Server struct {
	store *jobs.Store
	pub   *queue.Publisher
	log   *slog.Logger
	cfg   Config

	ctx    context.Context // ends at Close: background work stops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dispatchOnce sync.Once
	kick         chan struct{}
	watch        *hub

	linkKey    []byte // signs evidence links; see linkKey
	cache      *evidenceCache
	converting chan struct{} // a slot per workbook being written
}

// New returns a Server. Close stops its background work.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.EvidenceCacheBytes <= 0 {
		cfg.EvidenceCacheBytes = 1 << 30
	}
	if cfg.WorkbookConversions <= 0 {
		cfg.WorkbookConversions = max(1, runtime.GOMAXPROCS(0)/2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		store: jobs.New(cfg.Pool), pub: cfg.Publisher, log: cfg.Log, cfg: cfg,
		ctx: ctx, cancel: cancel, kick: make(chan struct{}, 1),
		linkKey:    linkKey(cfg.Tokens),
		cache:      newEvidenceCache(cfg.EvidenceCacheBytes),
		converting: make(chan struct{}, cfg.WorkbookConversions),
	}
	s.watch = newHub(ctx, cfg.Pool, cfg.Log, &s.wg)
	return s
}

// Close stops background work (the outbox dispatcher and the run listener)
// and waits for it.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
	s.cache.close()
}

// Handler serves both services, reflection and health on one mux, with
// CORS around it; also the signed evidence downloads at /evidence/ and the
// web page at /. Neither needs the bearer token: an evidence link carries
// its own signature, and the page asks for the token to call the API.
func (s *Server) Handler() http.Handler {
	opts := []connect.HandlerOption{}
	if len(s.cfg.Tokens) > 0 {
		opts = append(opts, connect.WithInterceptors(NewAuth(s.cfg.Tokens)))
	}
	mux := http.NewServeMux()
	mux.Handle(kallav1connect.NewRunServiceHandler(s, opts...))
	mux.Handle(kallav1connect.NewRecipeServiceHandler(s, opts...))

	// Reflection and health stay open: they reveal nothing a client could
	// not read from the published .proto files.
	services := []string{kallav1connect.RunServiceName, kallav1connect.RecipeServiceName}
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))

	mux.HandleFunc(evidencePath, s.serveEvidence)
	// The API's routes are longer prefixes and keep winning over "/".
	mux.Handle("/", webui.Handler())
	return withCORS(mux)
}

// withCORS lets browsers call every protocol: the allowed and exposed
// headers are those Connect, gRPC-Web and the bearer token need.
func withCORS(h http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins: []string{"*"},
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}).Handler(h)
}

// NewHTTPServer returns an http.Server that speaks HTTP/1.1 and unencrypted
// HTTP/2 (h2c, which gRPC clients use without TLS) on one port.
func NewHTTPServer(h http.Handler) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &p,
		ReadHeaderTimeout: 10 * time.Second,
	}
}
