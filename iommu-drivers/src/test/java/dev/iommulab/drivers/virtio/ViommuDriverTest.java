package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.fault.IommuFaultHandlers;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.viommu.ResvRegion;
import dev.iommulab.hw.viommu.ViommuEvent;
import dev.iommulab.hw.viommu.ViommuFaultReason;
import dev.iommulab.hw.viommu.ViommuOptions;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.virtio.VirtioStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The guest's virtio-iommu driver (drivers/iommu/virtio-iommu.c) against the device model: probe, domains, map and
 * unmap through requests, and the fault path from the event queue to the kernel log.
 */
class ViommuDriverTest {

    private static final long IOVA = 0x10000;
    private static final int RW = IommuProt.IOMMU_READ | IommuProt.IOMMU_WRITE;

    private final GuestFixture g = new GuestFixture();

    private IommuDomain attachedPaging(Device dev) {
        IommuDomain d = g.core.pagingDomainAlloc(dev);
        g.core.attachDevice(d, dev);
        return d;
    }

    /** viommu_probe(): DRIVER_OK, every event buffer posted, and its two dev_info lines. */
    @Test
    void probe_qemuDefaults_driverOkAndProbeLines() {
        assertThat(g.device.status() & VirtioStatus.DRIVER_OK).isNotZero();
        assertThat(g.dmesg()).containsExactly("virtio_iommu virtio0: input address: 64 bits",
                "virtio_iommu virtio0: page mask: 0xfffffffffffff000");
        assertThat(g.driver.identityDomain()).as("BYPASS_CONFIG: a static identity domain").isNotNull();
        assertThat(g.driver.blockedDomain()).isNull();
    }

    /** viommu_probe(): no MAP_UNMAP offered, no driver (-ENODEV). */
    @Test
    void probe_noMapUnmap_enodev() {
        ViommuOptions o = ViommuOptions.DEFAULTS.withFeatures(ViommuOptions.QEMU_FEATURES
                & ~(1L << ViommuWire.F_MAP_UNMAP));

        assertThatThrownBy(() -> new GuestFixture(o, ViommuDriver.Options.DEFAULTS))
                .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENODEV));
    }

    /** viommu_map_pages() + viommu_iotlb_sync_map(): the MAP reaches the device; the NIC's DMA is translated. */
    @Test
    void map_attachedDomain_deviceTranslatesNicDma() {
        Device dev = g.probe();
        IommuDomain d = attachedPaging(dev);
        long page = g.frames.allocate();
        g.memory.write(page + 8, new byte[] {5, 6});

        IommuMap.map(d, IOVA, page, 4096, RW);

        assertThat(g.dma(IOVA + 8, 2, Access.READ).data()).containsExactly(5, 6);
        assertThat(IommuMap.iovaToPhys(d, IOVA + 8)).isEqualTo(page + 8);
        assertThat(g.device.domainCount()).isOne();
    }

    /** viommu_unmap_pages() + viommu_iotlb_sync(): the UNMAP reaches the device before iommu_unmap() returns. */
    @Test
    void unmap_attachedDomain_nicFaultsAfterReturn() {
        Device dev = g.probe();
        IommuDomain d = attachedPaging(dev);
        IommuMap.map(d, IOVA, g.frames.allocate(), 8192, RW);

        assertThat(IommuMap.unmap(d, IOVA, 8192)).isEqualTo(8192);

        assertThat(g.dma(IOVA, 8, Access.READ).status()).isEqualTo(DmaStatus.UR);
        assertThat(IommuMap.iovaToPhys(d, IOVA)).isZero();
    }

    /** viommu_del_mappings(): unmapping part of one mapping removes nothing and returns 0. */
    @Test
    void unmap_partOfMapping_zeroAndMappingKept() {
        Device dev = g.probe();
        IommuDomain d = attachedPaging(dev);
        IommuMap.map(d, IOVA, g.frames.allocate(), 8192, RW);

        assertThat(IommuMap.unmap(d, IOVA + 4096, 4096)).isZero();

        assertThat(g.dma(IOVA + 4096, 8, Access.READ).status()).isEqualTo(DmaStatus.OK);
    }

    /**
     * viommu_attach_dev() + viommu_replay_mappings(): mappings made while no endpoint was attached are sent when
     * the first endpoint attaches.
     */
    @Test
    void attach_domainMappedBeforehand_mappingsReplayed() {
        Device dev = g.probe();
        IommuDomain d = g.core.pagingDomainAlloc(dev);
        long page = g.frames.allocate();
        g.memory.write(page, new byte[] {9});
        IommuMap.map(d, IOVA, page, 4096, RW);

        g.core.attachDevice(d, dev);

        assertThat(g.dma(IOVA, 1, Access.READ).data()).containsExactly(9);
    }

    /** The identity domain: ATTACH with VIRTIO_IOMMU_ATTACH_F_BYPASS; the NIC reaches guest memory 1:1. */
    @Test
    void attach_identityDomain_bypass() {
        Device dev = g.probe();
        g.memory.write(0x30_0000, new byte[] {4});

        g.core.attachDevice(g.driver.identityDomain(), dev);

        assertThat(g.dma(0x30_0000, 1, Access.READ).data()).containsExactly(4);
    }

    /**
     * viommu_event_handler() and viommu_fault_handler(): an unmapped read faults MAPPING; the driver logs
     * {@code page fault from EP 16 at 0x20000 [R]} and posts the buffer again.
     */
    @Test
    void eventHandler_unmappedRead_pageFaultLineAndBufferReposted() {
        Device dev = g.probe();
        attachedPaging(dev);

        assertThat(g.dma(0x20000, 64, Access.READ).status()).isEqualTo(DmaStatus.UR);

        assertThat(g.dmesg()).contains("virtio_iommu virtio0: page fault from EP 16 at 0x20000 [R]");
        assertThat(g.viommuEvents).extracting(ViommuEvent::delivered).containsOnly(true);
        for (int i = 0; i < 300; i++) {
            g.dma(0x40000 + 0x1000L * i, 4, Access.WRITE);
        }
        assertThat(g.device.eventsDropped()).as("each buffer posted again: 256 buffers serve 301 faults").isZero();
    }

    /** viommu_fault_handler(): a write to a READ-only mapping is a MAPPING fault with W. */
    @Test
    void eventHandler_writeToReadOnly_pageFaultWithW() {
        Device dev = g.probe();
        IommuDomain d = attachedPaging(dev);
        IommuMap.map(d, IOVA, g.frames.allocate(), 4096, IommuProt.IOMMU_READ);

        g.dma(IOVA, 4, Access.WRITE);

        assertThat(g.dmesg()).contains("virtio_iommu virtio0: page fault from EP 16 at 0x10000 [W]");
    }

    /** dev_err_ratelimited(): ten lines in five seconds; the other twenty are suppressed, the events all delivered. */
    @Test
    void eventHandler_faultStorm_ratelimited() {
        Device dev = g.probe();
        attachedPaging(dev);

        for (int i = 0; i < 30; i++) {
            g.dma(0x40000 + 0x1000L * i, 4, Access.READ);
        }

        assertThat(g.dmesg().stream().filter(l -> l.contains("fault from EP"))).hasSize(10);
        assertThat(g.viommuEvents).hasSize(30).extracting(e -> e.fault().reason())
                .containsOnly(ViommuFaultReason.MAPPING);
    }

    /** viommu_get_resv_regions(): the device's MSI region; without one, the software MSI window. */
    @Test
    void getResvRegions_probedRegionsOrSoftwareMsi() {
        GuestFixture withMsi = new GuestFixture();
        withMsi.device.addEndpoint(0x18, List.of(new ResvRegion(0xfee0_0000L, 0xfeef_ffffL,
                ViommuWire.RESV_MEM_T_MSI)));
        PcieEndpoint other = new PcieEndpoint(
                new EndpointConfig("vnvme0", 0x18, DeviceProfile.NVME,
                        false, false, 0, 1, 0, 1), withMsi.loop, withMsi.timing);
        Device nvme = withMsi.core.probeDevice(other, withMsi.driver);
        Device nic = g.probe();

        assertThat(withMsi.driver.getResvRegions(nvme)).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo(IommuResvRegion.Type.MSI);
            assertThat(r.start()).isEqualTo(0xfee0_0000L);
            assertThat(r.length()).isEqualTo(0x10_0000L);
        });
        assertThat(g.driver.getResvRegions(nic)).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo(IommuResvRegion.Type.SW_MSI);
            assertThat(r.start()).isEqualTo(ViommuDev.MSI_IOVA_BASE);
        });
    }

    /** viommu_probe_device(): an endpoint the device does not know fails its PROBE (-ENOENT). */
    @Test
    void probeDevice_unknownToDevice_enoent() {
        PcieEndpoint stray = new PcieEndpoint(
                new EndpointConfig("stray", 0x20, DeviceProfile.NIC,
                        false, false, 0, 1, 0, 1), g.loop, g.timing);

        assertThatThrownBy(() -> g.core.probeDevice(stray, g.driver))
                .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    /**
     * report-iommu-fault (lab option, the driver's TODO done): the endpoint's domain gets report_iommu_fault(), so
     * the print handler a device driver installed with iommu_set_fault_handler() runs.
     */
    @Test
    void reportIommuFault_optionOn_handlerOfEndpointDomainRuns() {
        GuestFixture r = new GuestFixture(ViommuOptions.DEFAULTS.withBootBypass(false),
                new ViommuDriver.Options(256, 256, true));
        Device dev = r.probe();
        IommuDomain d = r.core.pagingDomainAlloc(dev);
        r.core.attachDevice(d, dev);
        r.legacy.setFaultHandler(d, IommuFaultHandlers.print(r.log), null);

        r.dma(0x20000, 4, Access.WRITE);

        assertThat(r.dmesg()).containsSubsequence("virtio_iommu virtio0: page fault from EP 16 at 0x20000 [W]",
                "pci 0000:00:02.0: Unhandled context fault: iova=0x00020000, flags=0x1");
    }

    /**
     * A device that stops answering (QEMU's virtio_error): its configuration interrupt makes viommu_config_changed()
     * warn, and the driver's synchronous request never returns.
     */
    @Test
    void attach_deviceBroken_hungAndEio() {
        GuestFixture q = new GuestFixture(ViommuOptions.DEFAULTS.withBootBypass(false)
                .withImplementation(ViommuOptions.Implementation.QEMU), ViommuDriver.Options.DEFAULTS);
        Device dev = q.probe();
        q.device.writeConfig(ViommuWire.CONFIG_BYPASS, 1, 7); // breaks QEMU's device

        assertThatThrownBy(() -> q.core.attachDevice(q.core.pagingDomainAlloc(dev), dev))
                .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        assertThat(q.driver.hung()).isTrue();
        assertThat(q.driver.deviceStatus() & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(q.dmesg()).as("viommu_config_changed()").contains("virtio_iommu virtio0: config changed");
    }
}
