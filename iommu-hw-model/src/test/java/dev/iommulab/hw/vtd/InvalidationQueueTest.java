package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.DOMAIN_ID;
import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The VT-d queued-invalidation interface ({@code IQA/IQH/IQT}): page group responses, wait
 * descriptors and the invalidation queue error. Derives from reference/iommu-hardware.md §2.1.3
 * (Responses: descriptor 0x9, {@code QI_RESP_*}), §2.1.5 (descriptor types, {@code FSTS.IQE}) and §6
 * scenario 34, and from intel_iommu_page_response() in drivers/iommu/intel/prq.c, which puts the
 * kernel's {@code enum iommu_page_response_code} into the descriptor unchanged.
 */
class InvalidationQueueTest {

    private final VtdFixture f = new VtdFixture();

    InvalidationQueueTest() {
        f.attachSvaDevice();
        f.enableInvalidationQueue();
    }

    /**
     * Scenario 34 and intel_iommu_page_response(): the kernel's IOMMU_PAGE_RESP_FAILURE is 2, which goes
     * on the wire as 0010b, an unused code the function must read as Response Failure (§1.4).
     */
    @Test
    void scenario34_kernelFailureCode2_reachesFunctionAsWire2ReadAsResponseFailure() {
        f.submit(QiDescriptor.pageGroupResponse(RID, true, PASID, 2, 0x11, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.wireCode()).isEqualTo(0x2);
            assertThat(r.code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
            assertThat(r.rid()).isEqualTo(RID);
            assertThat(r.pasidPresent()).isTrue();
            assertThat(r.pasid()).isEqualTo(PASID);
            assertThat(r.prgi()).isEqualTo(0x11);
        });
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(f.unit.readReg(VtdRegs.IQT));
        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isZero();
    }

    /** §2.1.3 QI_RESP_*: the 4-bit code is sent unchanged; the function interprets it (§1.4). */
    @ParameterizedTest(name = "code {0} -> {1}")
    @CsvSource({"0, SUCCESS", "1, INVALID_REQUEST", "15, RESPONSE_FAILURE", "14, RESPONSE_FAILURE"})
    void scenario34_responseCode_reachesFunctionUnchanged(int code, PrgResponseCode expected) {
        f.submit(QiDescriptor.pageGroupResponse(RID, true, PASID, code, 0x1ff, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.wireCode()).isEqualTo(code);
            assertThat(r.code()).isEqualTo(expected);
            assertThat(r.prgi()).isEqualTo(0x1ff);
        });
    }

    /** A response is a TLP: it reaches the function one PCIe latency later, not synchronously. */
    @Test
    void pageGroupResponse_arrivesAfterTlpLatency() {
        f.submit(QiDescriptor.pageGroupResponse(RID, false, 0, 0, 3, true));

        assertThat(f.function.responses).isEmpty();

        f.loop.runUntilIdle();

        assertThat(f.function.responses).containsExactly(new PrgResponse(RID, false, 0, 3, 0));
        assertThat(f.loop.now()).isEqualTo(TimingModel.ESTIMATES.pcieTlpNs());
    }

    /** §2.1.5 wait descriptor with SW: the unit writes the status dword (and only it) at the address. */
    @Test
    void invalidationWait_statusWrite_writesStatusDword() {
        long status = f.allocateFrame() + 0x40;
        f.memory.writeInt(status + 4, 0xdead_beef);

        f.submit(QiDescriptor.invalidationWait(0x1234_5678, status, 0));

        assertThat(f.memory.readInt(status)).isEqualTo(0x1234_5678);
        assertThat(f.memory.readInt(status + 4)).isEqualTo(0xdead_beef);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(VtdRegs.DESC_SIZE);
    }

    /** §2.1.5: a cache invalidation completes at once and the wait behind it writes its status. */
    @Test
    void pasidIotlbInvalidation_thenWait_bothCompleteInOrder() {
        long status = f.allocateFrame();

        f.submit(QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID), QiDescriptor.invalidationWait(1, status, 0));

        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(2L * VtdRegs.DESC_SIZE);
        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isZero();
    }

    /**
     * §2.1.5: an unknown descriptor sets FSTS.IQE; the head stays on it and the descriptors behind it
     * are not executed.
     */
    @Test
    void unknownDescriptor_setsIqeAndHeadStaysOnIt() {
        long before = f.allocateFrame();
        long after = f.allocateFrame();

        f.submit(QiDescriptor.invalidationWait(1, before, 0),
                new QiDescriptor(0xf, 0, 0, 0),
                QiDescriptor.invalidationWait(2, after, 0));

        assertThat(f.memory.readInt(before)).isEqualTo(1);
        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isEqualTo(VtdRegs.FSTS_IQE);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(VtdRegs.DESC_SIZE);
        assertThat(f.unit.readReg(VtdRegs.IQT)).isEqualTo(3L * VtdRegs.DESC_SIZE);
        assertThat(f.memory.readInt(after)).isZero();
    }

    /**
     * FSTS is RW1C, and clearing IQE resumes fetching at IQH: software first replaces the bad descriptor
     * (qi_check_fault() copies its wait descriptor over it), then clears IQE; the queue runs on.
     */
    @Test
    void writeFsts_iqeClearedAfterReplacingBadDescriptor_queueResumesAtHead() {
        long status = f.allocateFrame();
        f.submit(new QiDescriptor(0xf, 0, 0, 0));
        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isEqualTo(VtdRegs.FSTS_IQE);
        QiDescriptor wait = QiDescriptor.invalidationWait(7, status, 0);
        f.memory.writeLong(f.iqBase, wait.qw0());
        f.memory.writeLong(f.iqBase + 8, wait.qw1());

        f.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_IQE);

        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isZero();
        assertThat(f.memory.readInt(status)).isEqualTo(7);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(f.unit.readReg(VtdRegs.IQT));
    }

    /** Clearing IQE without fixing the descriptor fetches it again: IQE comes back, IQH stays on it. */
    @Test
    void writeFsts_iqeClearedWithBadDescriptorInPlace_iqeSetAgain() {
        f.submit(new QiDescriptor(0xf, 0, 0, 0));

        f.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_IQE);

        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isEqualTo(VtdRegs.FSTS_IQE);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isZero();
    }

    /** Reserved bits set, or a reserved granularity: IQE with IQEI 4 (reserved field), head on it. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "context-cache G=0, 1",
        "context-cache reserved bit 6, 0x51",
        "IOTLB AM above MAMV, 0x12",
        "PASID-IOTLB G=1, 0x16",
        "PASID-cache G=2, 0x27",
        "wait reserved bit 12, 0x1025",
        "page group response qword1 bit 0, 0x9"})
    void reservedFieldOrGranularity_iqeWithReservedFieldInfo(String what, String qw0Hex) {
        long qw0 = Long.decode(qw0Hex);
        long qw1 = what.startsWith("IOTLB") ? 10 : what.startsWith("page group") ? 1 : 0;
        long status = f.allocateFrame();

        f.submit(new QiDescriptor(qw0, qw1, 0, 0), QiDescriptor.invalidationWait(1, status, 0));

        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).as(what).isEqualTo(VtdRegs.FSTS_IQE);
        assertThat(f.unit.readReg(VtdRegs.IQERCD) & 0xf).isEqualTo(VtdRegs.IQEI_RESERVED_FIELD);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isZero();
        assertThat(f.memory.readInt(status)).isZero();
    }

    @Test
    void unknownType_iqeWithInvalidTypeInfoAndFaultEvent() {
        f.submit(new QiDescriptor(0xa, 0, 0, 0));
        f.loop.runUntilIdle();

        assertThat(f.unit.readReg(VtdRegs.IQERCD) & 0xf).isEqualTo(VtdRegs.IQEI_INVALID_TYPE);
        assertThat(f.faultEvents).isEqualTo(1);
    }

    /** With 256-bit descriptors IQT must be 32-byte aligned: bit 4 set is IQE (IQEI 6), nothing fetched. */
    @Test
    void tailNotAlignedTo256BitDescriptor_iqeTailMisaligned() {
        f.unit.writeReg(VtdRegs.IQT, 0x10);

        assertThat(f.unit.readReg(VtdRegs.FSTS) & VtdRegs.FSTS_IQE).isEqualTo(VtdRegs.FSTS_IQE);
        assertThat(f.unit.readReg(VtdRegs.IQERCD) & 0xf).isEqualTo(VtdRegs.IQEI_TAIL_MISALIGNED);
        assertThat(f.unit.readReg(VtdRegs.IQT)).isZero();
    }

    /** IQA.DW = 0: 128-bit descriptors, 16 bytes apart. */
    @Test
    void descriptors128Bit_fetchedSixteenBytesApart() {
        long ring = f.allocateFrame();
        long status = f.allocateFrame();
        f.unit.writeReg(VtdRegs.IQA, ring);
        QiDescriptor first = QiDescriptor.pasidCache(VtdFixture.DOMAIN_ID, VtdFixture.PASID);
        QiDescriptor wait = QiDescriptor.invalidationWait(3, status, 0);
        f.memory.writeLong(ring, first.qw0());
        f.memory.writeLong(ring + 8, first.qw1());
        f.memory.writeLong(ring + 16, wait.qw0());
        f.memory.writeLong(ring + 24, wait.qw1());

        f.unit.writeReg(VtdRegs.IQT, 32);

        assertThat(f.memory.readInt(status)).isEqualTo(3);
        assertThat(f.unit.readReg(VtdRegs.IQH)).isEqualTo(32);
    }

    @Test
    void queueOutsideMemory_iqeFetchError() {
        f.unit.writeReg(VtdRegs.IQA, (1L << 40) | VtdRegs.IQA_DW_256);

        f.unit.writeReg(VtdRegs.IQT, 32);

        assertThat(f.unit.readReg(VtdRegs.IQERCD) & 0xf).isEqualTo(VtdRegs.IQEI_FETCH_ERROR);
    }

    /** GSTS.QIE clear: descriptors wait in the ring until software enables queued invalidation. */
    @Test
    void queuedInvalidationDisabled_nothingFetchedUntilEnabled() {
        long status = f.allocateFrame();
        f.unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_TE);

        f.submit(QiDescriptor.invalidationWait(1, status, 0));
        assertThat(f.memory.readInt(status)).isZero();
        f.unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_TE | VtdRegs.GCMD_QIE);

        assertThat(f.memory.readInt(status)).isEqualTo(1);
    }

    /** Scenario 34 end to end: software reads a queued LPIG descriptor and answers it with the same fields. */
    @Test
    void scenario34_responseForQueuedRequest_answersThatGroup() {
        f.enablePageRequestQueue();
        f.unit.pageRequest(VtdFixture.pageRequest(0x33, true, 0x7000_0000L));
        f.loop.runUntilIdle();
        PageRequestDescriptor d = f.prqSlot(0);

        f.submit(QiDescriptor.pageGroupResponse(d.rid(), d.pasidPresent(), d.pasid(), 0, d.prgIndex(), d.lpig()));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).containsExactly(new PrgResponse(RID, true, PASID, 0x33, 0));
    }
}
