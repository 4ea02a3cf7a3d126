package postgres_test

import (
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

func TestPins(t *testing.T) {
	dsn(t)
	var schemas sync.Map // *testing.T → schema, so that a second open is a second replica
	storetest.RunPins(t, func(t *testing.T) pin.Store {
		schema, ok := schemas.Load(t)
		if !ok {
			schema = freshSchema(t)
			schemas.Store(t, schema)
		}
		return open(t, schema.(string))
	})
}
