/* Map definitions and the map steps every tool repeats, for the tools that have no use for the rest
 * of tools.bpf.h (tc-limit and xdp-shield: no ring buffer, no task filters).
 * Include after vmlinux.h and bpf_helpers.h. */
#ifndef __TSBPF_MAPS_BPF_H
#define __TSBPF_MAPS_BPF_H

/* A BTF-defined map (what libbpf and tsbpf's loader read from .maps) of the four attributes most of
 * the tools' maps need; a map with flags, or sizes instead of types, is written out in full. */
#define DEFINE_MAP(_name, _type, _key, _value, _max_entries) \
	struct { \
		__uint(type, _type); \
		__uint(max_entries, _max_entries); \
		__type(key, _key); \
		__type(value, _value); \
	} _name SEC(".maps")

/* A ring buffer of _bytes bytes (a power of two, a multiple of the page size). */
#define DEFINE_RINGBUF(_name, _bytes) \
	struct { \
		__uint(type, BPF_MAP_TYPE_RINGBUF); \
		__uint(max_entries, _bytes); \
	} _name SEC(".maps")

/* The value at `key` in a hash map, created from `init` when absent (libbpf-tools'
 * bpf_map_lookup_or_try_init): NULL only when the map is full. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
