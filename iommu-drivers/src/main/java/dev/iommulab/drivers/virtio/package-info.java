/**
 * The guest kernel's virtio-iommu driver (drivers/iommu/virtio-iommu.c) and its platform:
 * {@link dev.iommulab.drivers.virtio.ViommuDriver} drives the virtio-iommu device model
 * ({@link dev.iommulab.hw.viommu.VirtioIommu}) through its transport and its two virtqueues in guest memory;
 * {@link dev.iommulab.drivers.virtio.VirtioPlatform} binds model, driver and x86 page tables under
 * {@code hardware.model: virtio-iommu}, the machine a scenario's guests run on.
 *
 * <p>What mainline has, modelled as it is: {@code viommu_probe()} (features, configuration, queues, event buffers),
 * endpoint PROBE with reserved regions, paging domains that keep their own mappings and send MAP/UNMAP requests,
 * the bypass identity domain, the synchronous request transport with its writeback rule, and the event handler that
 * logs each fault record and posts its buffer again. What it does not have, added as an option: handing a fault to
 * {@code report_iommu_fault()} (the driver's TODO), {@link dev.iommulab.drivers.virtio.ViommuDriver.Options}.
 */
package dev.iommulab.drivers.virtio;
