/**
 * The split virtqueue of virtio 1.x (§2.7 Split Virtqueues) in guest memory, both ends: the rings are real
 * little-endian bytes in {@link dev.iommulab.hw.mem.PhysicalMemory}, written by one side and read by the other.
 *
 * <p>Public surface: {@link dev.iommulab.hw.virtio.VirtqueueLayout} (where the descriptor table, the available
 * ring and the used ring lie), {@link dev.iommulab.hw.virtio.VirtqueueDevice} (the device: pop a chain, push it
 * back used, decide on an interrupt), {@link dev.iommulab.hw.virtio.VirtqueueDriver} (the guest driver, as Linux's
 * virtio_ring.c: add a chain, decide on a kick, get a used buffer), the chain as the device sees it
 * ({@link dev.iommulab.hw.virtio.DescriptorChain} of {@link dev.iommulab.hw.virtio.Segment}s), what a pop finds
 * ({@link dev.iommulab.hw.virtio.PopResult}, {@link dev.iommulab.hw.virtio.ChainError}) and the device status bits
 * ({@link dev.iommulab.hw.virtio.VirtioStatus}).
 *
 * <p>Modelling choices:
 * <ul>
 *   <li>Addresses in descriptors are guest-physical: no IOMMU sits between a virtio-iommu and its own queues.</li>
 *   <li>No barriers: the simulation is single-threaded, so the order of the writes (used element before
 *       {@code used.idx}, avail ring entry before {@code avail.idx}) is the whole of the ordering rule.</li>
 *   <li>The device refuses every malformed chain QEMU refuses (except its limit of 1024 mapped buffers per chain),
 *       plus the two indirect rules QEMU leaves unchecked; it follows an {@code INDIRECT} descriptor at the end of
 *       a direct chain, as the spec requires and QEMU does not.</li>
 *   <li>Only the modern layout (separate addresses, little-endian); no packed virtqueues.</li>
 * </ul>
 */
package dev.iommulab.hw.virtio;
