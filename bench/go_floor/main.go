// The Go floor: a do-nothing ext_proc server on grpc-go, what most users would run instead
// of wasmd. It answers every ProcessingRequest with the matching empty response (CONTINUE,
// no mutation); Envoy's processing mode decides which messages come. It listens on a Unix
// socket, like a wasmd worker's ext_proc slot.
//
//	go_floor -socket /tmp/floor.sock
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	ep "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
)

type floor struct {
	ep.UnimplementedExternalProcessorServer
}

// One prebuilt empty reply per phase (never mutated; grpc-go only reads them).
var (
	requestHeaders   = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_RequestHeaders{RequestHeaders: &ep.HeadersResponse{}}}
	responseHeaders  = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_ResponseHeaders{ResponseHeaders: &ep.HeadersResponse{}}}
	requestBody      = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_RequestBody{RequestBody: &ep.BodyResponse{}}}
	responseBody     = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_ResponseBody{ResponseBody: &ep.BodyResponse{}}}
	requestTrailers  = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_RequestTrailers{RequestTrailers: &ep.TrailersResponse{}}}
	responseTrailers = &ep.ProcessingResponse{Response: &ep.ProcessingResponse_ResponseTrailers{ResponseTrailers: &ep.TrailersResponse{}}}
)

func reply(req *ep.ProcessingRequest) (*ep.ProcessingResponse, error) {
	switch req.Request.(type) {
	case *ep.ProcessingRequest_RequestHeaders:
		return requestHeaders, nil
	case *ep.ProcessingRequest_ResponseHeaders:
		return responseHeaders, nil
	case *ep.ProcessingRequest_RequestBody:
		return requestBody, nil
	case *ep.ProcessingRequest_ResponseBody:
		return responseBody, nil
	case *ep.ProcessingRequest_RequestTrailers:
		return requestTrailers, nil
	case *ep.ProcessingRequest_ResponseTrailers:
		return responseTrailers, nil
	}
	return nil, fmt.Errorf("unknown ProcessingRequest %T", req.Request)
}

func (floor) Process(stream ep.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		resp, err := reply(req)
		if err != nil {
			return err
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func main() {
	socket := flag.String("socket", "", "Unix socket to listen on (required)")
	flag.Parse()
	if *socket == "" {
		log.Fatal("go_floor: -socket PATH is required")
	}
	os.Remove(*socket)
	lis, err := net.Listen("unix", *socket)
	if err != nil {
		log.Fatalf("go_floor: listen %s: %v", *socket, err)
	}
	server := grpc.NewServer()
	ep.RegisterExternalProcessorServer(server, floor{})
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		server.Stop()
	}()
	if err := server.Serve(lis); err != nil {
		log.Fatalf("go_floor: serve: %v", err)
	}
}
