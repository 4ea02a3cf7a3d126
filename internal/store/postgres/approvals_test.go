package postgres_test

import (
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

func TestApprovals(t *testing.T) {
	dsn(t)
	var schemas sync.Map // *testing.T → schema, so that a second open is a second replica
	storetest.RunApprovals(t, func(t *testing.T) approval.Store {
		schema, ok := schemas.Load(t)
		if !ok {
			schema = freshSchema(t)
			schemas.Store(t, schema)
		}
		return open(t, schema.(string))
	})
}
