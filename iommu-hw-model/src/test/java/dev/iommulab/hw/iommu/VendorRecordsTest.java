package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.riscv.RiscvFaultRecord;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import dev.iommulab.hw.vtd.FaultRecord;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The common record views over the vendors' own encodings: a page request written in the vendor's bytes reads
 * back as the message the function sent, and a fault record gives requester, PASID and the vendor's reason code.
 */
class VendorRecordsTest {

    private final PhysicalMemory memory = new PhysicalMemory(1L << 16);

    static Stream<Arguments> pageRequestFormats() {
        Function<PageRequestMessage, PageRequestRecord> vtd = PageRequestDescriptor::of;
        BiFunction<PhysicalMemory, Long, PageRequestRecord> vtdRead = PageRequestDescriptor::readFrom;
        Function<PageRequestMessage, PageRequestRecord> riscv = RiscvPageRequestRecord::of;
        BiFunction<PhysicalMemory, Long, PageRequestRecord> riscvRead = RiscvPageRequestRecord::readFrom;
        return Stream.of(Arguments.of("VT-d", vtd, vtdRead, 32), Arguments.of("RISC-V", riscv, riscvRead, 16));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pageRequestFormats")
    void toMessage_writtenAndReadBack_sameMessage(String vendor, Function<PageRequestMessage, PageRequestRecord> of,
                                                  BiFunction<PhysicalMemory, Long, PageRequestRecord> read,
                                                  int size) {
        PageRequestMessage m = new PageRequestMessage(0x0118, true, 0x4321, true, true, true, true, true, 0x1a5,
                0x7f12_3456_7000L);
        memory.writeLong(0x1000 + size, -1);

        of.apply(m).writeTo(memory, 0x1000);

        assertThat(read.apply(memory, 0x1000L).toMessage()).isEqualTo(m);
        assertThat(memory.readLong(0x1000 + size)).as("nothing written past the entry").isEqualTo(-1);
    }

    @Test
    void faultLogRecord_vtdFrcdAndRiscvFqRecord_sameCommonFields() {
        FaultLogRecord vtd = new FaultRecord(0x0118, true, 0x4321, 0x7000, FaultRecord.Type.READ, 0, false, true, 0x59);
        FaultLogRecord riscv = new RiscvFaultRecord(13, 0x4321, true, true, RiscvFaultRecord.TTYP_UNTRANSLATED_READ,
                0x0118, 0x7000, 0);

        for (FaultLogRecord r : new FaultLogRecord[] {vtd, riscv}) {
            assertThat(r.requesterId()).isEqualTo(0x0118);
            assertThat(r.pasidOrNone()).isEqualTo(0x4321);
            assertThat(r.privileged()).isTrue();
        }
        assertThat(vtd.reasonCode()).isEqualTo(0x59);
        assertThat(riscv.reasonCode()).isEqualTo(13);
    }

    @Test
    void hwFaultOf_recordWithoutPasid_pasidMinusOneAndVendorCode() {
        FaultLogRecord r = new RiscvFaultRecord(5, 0, false, false, RiscvFaultRecord.TTYP_UNTRANSLATED_READ, 0x20,
                0x9000, 0);

        HwFault f = HwFault.of(77, r, 0x9008, Access.READ, HwFaultReason.TRANSLATION_NOT_PRESENT, false, false);

        assertThat(f).isEqualTo(new HwFault(77, 0x20, -1, 0x9008, Access.READ, HwFaultReason.TRANSLATION_NOT_PRESENT, 5,
                false, false));
    }
}
