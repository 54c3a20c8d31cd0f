package wpad_test

import (
	"context"
	"fmt"

	"github.com/tlslab/tlslab/actors/wpad"
)

// A PAC file sends plain names direct and the rest through the proxy.
func ExampleCompile() {
	pac, err := wpad.Compile(`function FindProxyForURL(url, host) {
		if (isPlainHostName(host)) return "DIRECT";
		return "PROXY proxy.contoso.com:8080; DIRECT";
	}`)
	if err != nil {
		panic(err)
	}
	for _, host := range []string{"fileserv", "www.example.org"} {
		answer, _ := pac.FindProxyForURL(context.Background(), wpad.Env{}, "http://"+host+"/", host)
		dirs, _ := wpad.ParseResult(answer)
		fmt.Println(host, dirs)
	}
	// Output:
	// fileserv [DIRECT]
	// www.example.org [PROXY proxy.contoso.com:8080 DIRECT]
}
