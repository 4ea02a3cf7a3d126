package postgres

// PoolSize reports the most connections s will open.
func PoolSize(s *Store) int { return int(s.pool.Stat().MaxConns()) }
