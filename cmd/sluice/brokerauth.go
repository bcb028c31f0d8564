package main

import (
	"github.com/sluicehq/sluice/runtime/mqttbroker"
	"github.com/sluicehq/sluice/runtime/settings"
)

// brokerAuth gives the embedded MQTT broker the editor's users: with
// adminAuth set, devices log in as those users ("read" users may only
// subscribe) and anonymous clients get adminAuth's default permission.
// Without adminAuth the broker is open, as the editor is.
func brokerAuth(a *settings.Auth) *mqttbroker.Auth {
	if a == nil {
		return nil
	}
	out := &mqttbroker.Auth{Anonymous: a.Default}
	for _, u := range a.Users {
		out.Users = append(out.Users, mqttbroker.User{Username: u.Username, Hash: u.Password, ReadOnly: u.Permissions != "*"})
	}
	return out
}
