// Command planner is a Kalla pipeline service. It is not built yet: the
// distributed pipeline is issue 4. Until then it refuses to start, so no
// deployment mistakes it for a working service.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "planner: not implemented yet (the distributed pipeline is still to be built); use 'kalla reconcile' on one machine")
	os.Exit(1)
}
