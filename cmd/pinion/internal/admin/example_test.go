package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/admin"
)

// ExampleStart serves readiness: 503 until the server says it is ready.
func ExampleStart() {
	s, err := admin.Start(admin.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(context.Background())
	client := &http.Client{Timeout: 10 * time.Second}
	show := func() {
		r, err := client.Get("http://" + s.Addr() + "/readyz")
		if err != nil {
			fmt.Println(err)
			return
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		fmt.Print(r.StatusCode, " ", string(b))
	}
	show()
	s.SetReady(true)
	show()
	// Output:
	// 503 not ready
	// 200 ready
}
