// Package cache will hold read-through caching decorators over the store
// interfaces: absolute TTLs, bounded capacity, values copied, loads collapsed,
// entries dropped after every write through the decorator. Each decorator
// will pass store/storetest.
//
// Not built yet: the package is empty.
package cache
