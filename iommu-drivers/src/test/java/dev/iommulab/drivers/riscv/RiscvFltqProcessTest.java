package dev.iommulab.drivers.riscv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/**
 * The fault-queue thread: riscv_iommu_fltq_process() and riscv_iommu_fault() in drivers/iommu/riscv/iommu.c
 * (mainline: "report only"), reference/linux-fault-stack.md §6.4 and reference/iommu-hardware.md §2.4.2 (clear
 * fip first, consume fqh..fqt, clear fqof/fqmf by writing 1; while fqof is set every new record is discarded
 * but the faulting request still gets its error).
 */
class RiscvFltqProcessTest {

    private static final String PREFIX = "riscv,iommu riscv-iommu0: ";

    /**
     * A blocked read (DC not valid, CAUSE 258) becomes one record; the thread logs it with the kernel's
     * dev_warn_ratelimited() text, moves {@code fqh} to {@code fqt} and leaves {@code ipsr.fip} clear.
     */
    @Test
    void fltqProcess_oneRecord_loggedInKernelFormat() {
        RiscvIommuFixture f = new RiscvIommuFixture();
        PcieEndpoint nic = f.probePlain("nic0", 0x0500, DeviceProfile.NIC, 0);

        assertThat(f.read(nic, 0x12_3000, 64).status()).isEqualTo(DmaStatus.UR);

        assertThat(f.warnTexts()).containsExactly(PREFIX + "Fault 258 devid: 0x500 iotval: 123000 iotval2: 0");
        assertThat(f.hw.readReg(RiscvRegs.FQT)).isEqualTo(1);
        assertThat(f.hw.readReg(RiscvRegs.FQH)).isEqualTo(1);
        assertThat(f.hw.readReg(RiscvRegs.IPSR) & RiscvRegs.IPSR_FIP).isZero();
    }

    /**
     * fq-entries 2: the queue holds one record. An NVMe read of 4 KiB faults eight times (512-byte requests)
     * at once: the first is recorded, the second sets fqof, and all later ones are discarded while every
     * request still gets UR. The thread logs the one record, then writes fqcsr back to clear fqof with
     * "Queue #1 error; memory fault:0 overflow:1"; a later fault is recorded and logged again.
     */
    @Test
    void fltqProcess_overflow_fqofClearedWithWarningAndRecordingResumes() {
        RiscvIommuFixture f = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                new RiscvIommuDriver.QueueSizes(2, 4096), EndpointOptions.DEFAULTS);
        PcieEndpoint nvme = f.probePlain("nvme0", 0x0500, DeviceProfile.NVME, 0);

        assertThat(f.read(nvme, 0x10_0000, 4096).status()).isEqualTo(DmaStatus.UR);

        assertThat(f.hwFaults).hasSize(8);
        assertThat(f.hwFaults).extracting(HwFault::recorded).containsExactly(true, false, false, false, false, false,
                false, false);
        assertThat(f.warnTexts()).containsExactly(PREFIX + "Fault 258 devid: 0x500 iotval: 100000 iotval2: 0",
                PREFIX + "Queue #1 error; memory fault:0 overflow:1");
        assertThat(f.hw.readReg(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isZero();

        f.read(nvme, 0x20_0000, 512);

        assertThat(f.hwFaults.get(8).recorded()).isTrue();
        assertThat(f.warnTexts()).last().isEqualTo(PREFIX + "Fault 258 devid: 0x500 iotval: 200000 iotval2: 0");
    }

    /**
     * dev_warn_ratelimited() (DEFAULT_RATELIMIT_BURST 10 per DEFAULT_RATELIMIT_INTERVAL 5 s): two NVMe reads
     * whose first pages fault eight times each give sixteen records in one burst and ten "Fault" lines; the first record more than 5 s later is preceded by
     * "riscv_iommu_fault: 6 callbacks suppressed".
     */
    @Test
    void fltqProcess_burstOfSixteenFaults_tenLoggedThenCallbacksSuppressed() {
        RiscvIommuFixture f = new RiscvIommuFixture();
        PcieEndpoint nvme = f.probePlain("nvme0", 0x0500, DeviceProfile.NVME, 0);

        nvme.startDma(new DmaJob(0x10_0000, 4096, Access.READ, -1, false, null), outcome -> { });
        nvme.startDma(new DmaJob(0x20_0000, 4096, Access.READ, -1, false, null), outcome -> { });
        f.loop.runUntilIdle();

        assertThat(f.hwFaults).hasSize(16).allMatch(HwFault::recorded);
        assertThat(f.warnTexts()).hasSize(10).allMatch(t -> t.startsWith(PREFIX + "Fault 258 devid: 0x500"));

        f.loop.runFor(6_000_000_000L);
        f.read(nvme, 0x30_0000, 512);

        assertThat(f.warnTexts()).hasSize(12).endsWith("riscv_iommu_fault: 6 callbacks suppressed",
                PREFIX + "Fault 258 devid: 0x500 iotval: 300000 iotval2: 0");
        assertThat(Collections.frequency(f.warnTexts(), "riscv_iommu_fault: 6 callbacks suppressed")).isEqualTo(1);
    }
}
