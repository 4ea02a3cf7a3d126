package postgres_test

import (
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/store/storetest"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

func TestSessionFlags(t *testing.T) {
	dsn(t)
	var schemas sync.Map // *testing.T → schema, so that a second open is a second replica
	storetest.RunSessionFlags(t, func(t *testing.T) taint.Shared {
		schema, ok := schemas.Load(t)
		if !ok {
			schema = freshSchema(t)
			schemas.Store(t, schema)
		}
		return open(t, schema.(string))
	})
}
