// Package secretspeer compares Sentinel's secret detection (the redactor
// in internal/redact) with gitleaks' detector, used as a Go library with
// its default configuration, in one process and on the same texts.
//
// Its benchmark reports the throughput of both (MB/s) on a mix of
// developer documentation and credential examples, a clean 4 KiB text and
// a text dense with keywords but free of secrets; its test reports the
// recall and false-positive rate of both on the secrets corpus taken from
// gitleaks' own rule tests. The package exists for measurement: Sentinel's
// main module must never import it or gitleaks.
package secretspeer
