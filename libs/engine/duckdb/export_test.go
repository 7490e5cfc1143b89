package duckdb

// ReadWhole makes e read database sources whole and check their filters in
// the engine alone.
func ReadWhole(e *Engine) { e.readWhole = true }

// StoreAsRead makes e store every side with a key as read, whatever the
// order of its first records, and sort it after where it was not in key
// order.
func StoreAsRead(e *Engine) { e.storeAsRead = true }

// Stored makes e tell f how it stored each side with a key (kalla_left or
// kalla_right): as read, and then sorted after.
func Stored(e *Engine, f func(table string, asRead, sortedAfter bool)) { e.stored = f }

// WalkNever makes e's 1:1 rules take their pairs in rounds alone.
func WalkNever(e *Engine) { e.walk = walkNever }

// WalkFirst makes e's 1:1 rules walk after their first round, whatever it
// took.
func WalkFirst(e *Engine) { e.walk = walkFirst }

// CoarseNever makes e take every rule's keys as fine: candidates without
// bands, near misses chosen by a window over the pairs sharing keys.
func CoarseNever(e *Engine) { e.coarse = coarseNever }

// AloneFirstNever makes e's 1:1 rules take their pairs by first choices
// alone, where records share keys with few others too.
func AloneFirstNever(e *Engine) { e.aloneFirst = aloneFirstNever }

// CoarseAlways makes e take every rule's keys as coarse: candidates in
// bands and near misses by the nearest values where a rule allows them,
// else by an aggregate over the pairs sharing keys.
func CoarseAlways(e *Engine) { e.coarse = coarseAlways }

// NearestLookups makes e's lookups take the nearest others at each value
// wherever a rule allows them, whether the values tie or not.
func NearestLookups(e *Engine) { e.nearestLookups = true }

// AggregateNearMisses makes e find near misses by the aggregate wherever
// it takes keys as not coarse, however few records share them.
func AggregateNearMisses(e *Engine) { e.nearAggregate = true }

// PassingFirst makes e's near misses under a bounded condition first settle
// the records passing every condition before rounds from the same value
// wherever a rule allows it, however few pairs a round of the threshold
// compares, and take that step's own rounds however few pairs the step
// compares.
func PassingFirst(e *Engine) { e.passingFirst = true }

// JudgeKeys makes e tell f each rule's estimate of the pairs sharing its
// keys and whether it took them as coarse.
func JudgeKeys(e *Engine, f func(pairs float64, coarse bool)) { e.keysJudged = f }

// WidenStep is a step of near misses widening (see Widened).
type WidenStep = widenStep

// Widened makes e tell f each step of near misses widening that ran, and
// the records left after them.
func Widened(e *Engine, f func(WidenStep)) { e.widened = f }

// StagesAlways makes e's 1:1 rules under coarse keys take their pairs in
// stages while a stage compares fewer pairs than the rest at once would.
func StagesAlways(e *Engine) { e.stages = stagesAlways }

// StagesNever makes e's 1:1 rules make their candidates at once.
func StagesNever(e *Engine) { e.stages = stagesNever }

// Staged makes e tell f each stage's radius and the pairs it took.
func Staged(e *Engine, f func(radius, taken int64)) { e.staged = f }

// Parallel makes e run on four threads, splitting data among them from
// 2,048 records rather than DuckDB's 122,880 (its verify_parallelism), and
// its sorts, joins and aggregates the ways they take when data outgrows
// memory (debug_force_external): the ways of big books, on small ones.
func Parallel(e *Engine) {
	e.Threads = 4
	e.settings = []string{"PRAGMA verify_parallelism", "SET debug_force_external = true"}
}
