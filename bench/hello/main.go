// Command hello is the baseline of the cold-start and binary-size
// measurements (make bench): a hello-world aws-lambda-go +
// aws-lambda-go-api-proxy function, built exactly like the service's.
package main

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	lambda.Start(httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello"))
	})).ProxyWithContext)
}
