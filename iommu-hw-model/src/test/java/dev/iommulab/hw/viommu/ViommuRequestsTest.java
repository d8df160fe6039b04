package dev.iommulab.hw.viommu;

import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static dev.iommulab.hw.viommu.ViommuRig.EP2;
import static dev.iommulab.hw.viommu.ViommuWire.MAP_F_READ;
import static dev.iommulab.hw.viommu.ViommuWire.MAP_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ATTACH, DETACH and MAP answered by the rules of virtio 1.x §5.13.6.3-5.13.6.5 (QEMU's virtio_iommu_attach(),
 * virtio_iommu_detach(), virtio_iommu_map() where it departs): every refused request leaves the device as it was,
 * which each test checks through the endpoint's DMA.
 */
class ViommuRequestsTest {

    private static final int RW = MAP_F_READ | MAP_F_WRITE;
    private static final long IOVA = 0x10000;
    private static final long GPA = 0x20_0000;

    private final ViommuRig rig = new ViommuRig().boot(4);
    private final ViommuRig qemu = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(Implementation.QEMU))
            .boot(4);

    @Test
    void attach_newDomain_createdAndEndpointTranslated() {
        assertThat(rig.attach(1, EP)).isEqualTo(ViommuStatus.OK);
        assertThat(rig.map(1, IOVA, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.OK);
        rig.memory.write(GPA + 8, new byte[] {42});

        assertThat(rig.read(EP, IOVA + 8, 1).data()).containsExactly(42);
        assertThat(rig.device.domainCount()).isEqualTo(1);
    }

    @Test
    void attach_unknownEndpoint_noentAndNoDomain() {
        assertThat(rig.attach(1, 0x99)).isEqualTo(ViommuStatus.NOENT);
        assertThat(rig.device.domainCount()).isZero();
    }

    @Test
    void attach_unknownFlag_invalAndNotAttached() {
        assertThat(rig.send(new ViommuRequest.Attach(1, EP, 2))).isEqualTo(ViommuStatus.INVAL);
        assertThat(rig.device.domainCount()).isZero();
    }

    @Test
    @DisplayName("ATTACH: nonzero reserved bytes are refused (the spec's MUST); QEMU does not look at them")
    void attach_reservedNonzero_specInvalQemuAttaches() {
        assertThat(rig.send(new ViommuRequest.Attach(1, EP, 0, 1))).isEqualTo(ViommuStatus.INVAL);
        assertThat(qemu.send(new ViommuRequest.Attach(1, EP, 0, 1))).isEqualTo(ViommuStatus.OK);

        assertThat(rig.device.domainCount()).isZero();
        assertThat(qemu.device.domainCount()).isOne();
    }

    @Test
    @DisplayName("ATTACH to a domain of the other kind: INVAL; the spec keeps the old attachment, QEMU has detached")
    void attach_bypassMismatch_specKeepsOldDomainQemuLeavesDetached() {
        for (ViommuRig r : new ViommuRig[] {rig, qemu}) {
            r.attach(1, EP);
            r.map(1, IOVA, IOVA + 0xfff, GPA, RW);
            r.send(new ViommuRequest.Attach(2, EP2, ViommuWire.ATTACH_F_BYPASS));

            assertThat(r.attach(2, EP)).isEqualTo(ViommuStatus.INVAL);
        }
        assertThat(rig.read(EP, IOVA, 4).ok()).as("spec: still in domain 1").isTrue();
        assertThat(qemu.read(EP, IOVA, 4).ok()).as("QEMU: detached, domain 1 gone").isFalse();
        assertThat(qemu.events).last().extracting(e -> e.fault().reason()).isEqualTo(ViommuFaultReason.DOMAIN);
    }

    @Test
    void attach_otherDomain_movesEndpointAndLastEndpointTakesDomainAway() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0xfff, GPA, RW);

        assertThat(rig.attach(2, EP)).isEqualTo(ViommuStatus.OK);

        assertThat(rig.device.domainCount()).isOne();
        assertThat(rig.map(1, IOVA, IOVA + 0xfff, GPA, RW)).as("domain 1 ceased to exist")
                .isEqualTo(ViommuStatus.NOENT);
        assertThat(rig.read(EP, IOVA, 4).ok()).isFalse();
    }

    @Test
    void attach_sameDomainAgain_specKeepsMappingsQemuStartsAfresh() {
        for (ViommuRig r : new ViommuRig[] {rig, qemu}) {
            r.attach(1, EP);
            r.map(1, IOVA, IOVA + 0xfff, GPA, RW);
            assertThat(r.attach(1, EP)).isEqualTo(ViommuStatus.OK);
        }
        assertThat(rig.read(EP, IOVA, 4).ok()).isTrue();
        assertThat(qemu.read(EP, IOVA, 4).ok()).as("QEMU detaches first: the domain died with its mappings")
                .isFalse();
    }

    @Test
    @DisplayName("virtio 1.x DETACH: once it completes the endpoint cannot use the domain's mappings")
    void detach_completed_endpointCannotUseMappings() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0xfff, GPA, RW);
        assertThat(rig.read(EP, IOVA, 4).ok()).isTrue();

        assertThat(rig.send(new ViommuRequest.Detach(1, EP))).isEqualTo(ViommuStatus.OK);

        assertThat(rig.read(EP, IOVA, 4).ok()).isFalse();
        assertThat(rig.device.domainCount()).isZero();
    }

    @Test
    void detach_wrongDomainOrUnknownEndpoint_refusedAndStillAttached() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0xfff, GPA, RW);

        assertThat(rig.send(new ViommuRequest.Detach(2, EP))).isEqualTo(ViommuStatus.INVAL);
        assertThat(rig.send(new ViommuRequest.Detach(1, 0x99))).isEqualTo(ViommuStatus.NOENT);

        assertThat(rig.read(EP, IOVA, 4).ok()).isTrue();
    }

    @Test
    @DisplayName("DETACH of an endpoint QEMU never saw attached: NOENT (no endpoint object)")
    void detach_neverAttached_qemuNoentSpecInval() {
        assertThat(qemu.send(new ViommuRequest.Detach(1, EP))).isEqualTo(ViommuStatus.NOENT);
        assertThat(rig.send(new ViommuRequest.Detach(1, EP))).isEqualTo(ViommuStatus.INVAL);
    }

    @Test
    @DisplayName("A hostile driver: overlapping MAP is INVAL and the first mapping still translates")
    void map_overlapping_invalAndFirstMappingKept() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0x1fff, GPA, RW);
        rig.memory.write(GPA + 0x1000, new byte[] {7});

        assertThat(rig.map(1, IOVA + 0x1000, IOVA + 0x2fff, GPA + 0x10_0000, RW)).isEqualTo(ViommuStatus.INVAL);

        assertThat(rig.read(EP, IOVA + 0x1000, 1).data()).containsExactly(7);
        assertThat(rig.read(EP, IOVA + 0x2000, 1).ok()).isFalse();
    }

    @Test
    void map_unknownDomain_noent() {
        assertThat(rig.map(5, IOVA, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.NOENT);
        assertThat(rig.device.domainCount()).isZero();
    }

    @Test
    void map_unknownFlagOrMmioNotNegotiated_inval() {
        rig.attach(1, EP);
        ViommuRig noMmio = new ViommuRig().boot(ViommuOptions.QEMU_FEATURES & ~(1L << ViommuWire.F_MMIO), 0);
        noMmio.attach(1, EP);

        assertThat(rig.map(1, IOVA, IOVA + 0xfff, GPA, RW | 8)).isEqualTo(ViommuStatus.INVAL);
        assertThat(noMmio.map(1, IOVA, IOVA + 0xfff, GPA, ViommuWire.MAP_F_MMIO | MAP_F_WRITE))
                .isEqualTo(ViommuStatus.INVAL);
        assertThat(rig.read(EP, IOVA, 4).ok()).isFalse();
    }

    @Test
    void map_bypassDomain_inval() {
        rig.send(new ViommuRequest.Attach(1, EP, ViommuWire.ATTACH_F_BYPASS));

        assertThat(rig.map(1, IOVA, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.INVAL);
    }

    @Test
    @DisplayName("MAP not on the 4 KiB granule: RANGE by the spec; QEMU maps it")
    void map_misaligned_specRangeQemuMaps() {
        rig.attach(1, EP);
        qemu.attach(1, EP);

        assertThat(rig.map(1, IOVA + 0x10, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.RANGE);
        assertThat(rig.map(1, IOVA, IOVA + 0xffe, GPA, RW)).isEqualTo(ViommuStatus.RANGE);
        assertThat(rig.map(1, IOVA, IOVA + 0xfff, GPA + 0x10, RW)).isEqualTo(ViommuStatus.RANGE);
        assertThat(qemu.map(1, IOVA + 0x10, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.OK);
        assertThat(rig.read(EP, IOVA + 0x10, 4).ok()).isFalse();
    }

    @Test
    void map_outsideInputRange_range() {
        ViommuOptions o = ViommuRig.NO_BYPASS;
        ViommuRig narrow = new ViommuRig(new ViommuOptions(o.implementation(), o.noBuffer(), o.waitDepth(),
                o.bootBypass(), o.pageSizeMask(), 0, 0xffff_ffffL, 0, -1, o.probeSize(), o.features())).boot(0);
        narrow.attach(1, EP);

        assertThat(narrow.map(1, 0x1_0000_0000L, 0x1_0000_0fffL, GPA, RW)).isEqualTo(ViommuStatus.RANGE);
        assertThat(narrow.map(1, 0xffff_f000L, 0xffff_ffffL, GPA, RW)).isEqualTo(ViommuStatus.OK);
    }

    @Test
    @DisplayName("A hostile driver: MAP to guest-physical memory the guest does not have is FAULT; QEMU accepts it")
    void map_beyondGuestMemory_specFaultQemuAcceptsButDmaFails() {
        rig.attach(1, EP);
        qemu.attach(1, EP);
        long beyond = ViommuRig.MEMORY_BYTES;

        assertThat(rig.map(1, IOVA, IOVA + 0xfff, beyond, RW)).isEqualTo(ViommuStatus.FAULT);
        assertThat(rig.map(1, IOVA, IOVA + 0x1fff, beyond - 0x1000, RW)).isEqualTo(ViommuStatus.FAULT);
        assertThat(qemu.map(1, IOVA, IOVA + 0xfff, beyond, RW)).isEqualTo(ViommuStatus.OK);

        assertThat(rig.read(EP, IOVA, 4).ok()).isFalse();
        assertThat(qemu.read(EP, IOVA, 4).status()).as("translated, but nothing is there")
                .isEqualTo(dev.iommulab.hw.iommu.CompletionStatus.UR);
        assertThat(qemu.faults).isEmpty();
    }

    @Test
    void map_mapUnmapNotNegotiated_unsupp() {
        ViommuRig bare = new ViommuRig().boot(1L << ViommuWire.F_VERSION_1, 0);
        bare.attach(1, EP);

        assertThat(bare.map(1, IOVA, IOVA + 0xfff, GPA, RW)).isEqualTo(ViommuStatus.UNSUPP);
    }

    /**
     * A hostile driver's requests, each refused: the device keeps a record of them, and none changed its domains,
     * attachments or mappings (what the lab's {@code refused-requests-change-nothing} invariant reads).
     */
    @Test
    void refusals_hostileDriverSpec_recordedAndNoneChangedState() {
        rig.attach(1, EP);
        rig.map(1, IOVA, IOVA + 0x1fff, GPA, RW);

        rig.map(1, IOVA + 0x1000, IOVA + 0x2fff, GPA, RW);
        rig.map(7, IOVA, IOVA + 0xfff, GPA, RW);
        rig.map(1, 0x40000, 0x40fff, ViommuRig.MEMORY_BYTES, RW);
        rig.send(new ViommuRequest.Unmap(1, IOVA, IOVA + 0xfff));
        rig.send(new ViommuRequest.Attach(1, 0x99, 0));
        rig.send(new ViommuRequest.Detach(9, EP));

        assertThat(rig.device.refusals()).extracting(ViommuRefusal::status).containsExactly(
                ViommuStatus.INVAL, ViommuStatus.NOENT, ViommuStatus.FAULT, ViommuStatus.RANGE, ViommuStatus.NOENT,
                ViommuStatus.INVAL);
        assertThat(rig.device.refusals()).noneMatch(ViommuRefusal::changedState);
        assertThat(rig.read(EP, IOVA + 0x1000, 4).ok()).isTrue();
    }

    /** QEMU's ATTACH detaches before it checks the bypass kind: the refused request changed the device's state. */
    @Test
    void refusals_qemuAttachBypassMismatch_changedState() {
        qemu.attach(1, EP);
        qemu.send(new ViommuRequest.Attach(2, EP2, ViommuWire.ATTACH_F_BYPASS));

        qemu.attach(2, EP);

        assertThat(qemu.device.refusals()).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(ViommuStatus.INVAL);
            assertThat(r.changedState()).isTrue();
            assertThat(r.request()).startsWith("ATTACH domain 2 endpoint 16");
        });
    }
}
