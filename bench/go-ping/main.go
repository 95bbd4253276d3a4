// SPDX-License-Identifier: LGPL-2.1-or-later

// A Varlink server on the Go varlink library, serving the same
// org.example.ping interface as bench/vl-ping-server.c, so that both can be
// measured with the same client.
//
//	go-ping unix:/path/to/socket
//
// Build offline against Debian's golang-github-varlink-go-dev:
//
//	GO111MODULE=off GOPATH=$tmp:/usr/share/gocode go build -o go-ping ./bench/go-ping
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/varlink/go/varlink"
)

const description = `interface org.example.ping

method Ping(ping: string) -> (ping: string)
`

type pingInterface struct{}

type pingArgs struct {
	Ping string `json:"ping"`
}

func (p *pingInterface) VarlinkDispatch(ctx context.Context, call varlink.Call, methodname string) error {
	switch methodname {
	case "Ping":
		var in pingArgs
		if err := call.GetParameters(&in); err != nil {
			return call.ReplyInvalidParameter(ctx, "parameters")
		}
		return call.Reply(ctx, &in)
	default:
		return call.ReplyMethodNotFound(ctx, methodname)
	}
}

func (p *pingInterface) VarlinkGetName() string {
	return "org.example.ping"
}

func (p *pingInterface) VarlinkGetDescription() string {
	return description
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-ping ADDRESS")
		os.Exit(2)
	}
	service, err := varlink.NewService("Example", "Ping", "1", "https://example.org/ping")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := service.RegisterInterface(&pingInterface{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := service.Listen(context.Background(), os.Args[1], 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
