/**
 * The virtio-iommu device (virtio 1.x §5.13) as a virtual machine monitor emulates it, after QEMU's
 * hw/virtio/virtio-iommu.c, on the split virtqueues of {@link dev.iommulab.hw.virtio}.
 *
 * <p>Public surface: the device {@link dev.iommulab.hw.viommu.VirtioIommu} (transport, endpoints, and
 * {@link dev.iommulab.hw.iommu.IommuHardware} for their DMA), how it is built ({@link
 * dev.iommulab.hw.viommu.ViommuOptions}: what it offers, spec or QEMU answers, drop or wait for event buffers), the
 * wire formats both sides share ({@link dev.iommulab.hw.viommu.ViommuWire} numbers, {@link
 * dev.iommulab.hw.viommu.ViommuRequest} requests, {@link dev.iommulab.hw.viommu.ViommuStatus} answers, {@link
 * dev.iommulab.hw.viommu.ResvRegion} PROBE properties, {@link dev.iommulab.hw.viommu.ViommuFault} fault records), and
 * what became of each fault ({@link dev.iommulab.hw.viommu.ViommuEvent} to a
 * {@link dev.iommulab.hw.viommu.ViommuEventObserver}).
 *
 * <p>Modelling choices: guest-physical addresses throughout (the VMM reads guest memory directly); requests are
 * handled one VM exit after the kick ({@link dev.iommulab.hw.sim.TimingModel#vmExitNs()}) and answered in order;
 * a refused access completes with UR, the emulated device's bus error; no PASID, ATS or PRI.
 */
package dev.iommulab.hw.viommu;
