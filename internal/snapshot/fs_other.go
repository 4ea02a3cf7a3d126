//go:build !linux

package snapshot

import (
	"context"
	"os"
)

// Off Linux there is no file-system layer: statPath fails, so Open fails
// with ErrUnsupported and no other function here is ever reached.

type dirFD struct{ path string }

func openWorkspace(string) (*dirFD, error)      { return nil, ErrUnsupported }
func (d *dirFD) close()                         {}
func (d *dirFD) stat(string) (node, error)      { return node{}, ErrUnsupported }
func (d *dirFD) self() (node, error)            { return node{}, ErrUnsupported }
func (d *dirFD) openDir(string) (*dirFD, error) { return nil, ErrUnsupported }
func (d *dirFD) openFile(string) (*os.File, node, error) {
	return nil, node{}, ErrUnsupported
}
func (d *dirFD) names(int) ([]string, bool, error)     { return nil, false, ErrUnsupported }
func (d *dirFD) readlink(string) (string, error)       { return "", ErrUnsupported }
func (d *dirFD) createTemp() (*os.File, string, error) { return nil, "", ErrUnsupported }
func (d *dirFD) symlinkTemp(string) (string, error)    { return "", ErrUnsupported }
func (d *dirFD) rename(string, string) error           { return ErrUnsupported }
func (d *dirFD) remove(string, bool) error             { return ErrUnsupported }
func (d *dirFD) mkdir(string, uint32) error            { return ErrUnsupported }
func (d *dirFD) chmod(uint32) error                    { return ErrUnsupported }
func (d *dirFD) lchown(string, uint32, uint32) error   { return ErrUnsupported }
func (d *dirFD) sync() error                           { return ErrUnsupported }
func (d *dirFD) chown(uint32, uint32) error            { return ErrUnsupported }
func fileChmod(*os.File, uint32) error                 { return ErrUnsupported }
func fileChown(*os.File, uint32, uint32) error         { return ErrUnsupported }
func isNotDir(error) bool                              { return false }
func canChown() bool                                   { return false }
func statPath(string) (node, error)                    { return node{}, ErrUnsupported }
func lockFile(context.Context, string, bool) (func(), error) {
	return nil, ErrUnsupported
}
