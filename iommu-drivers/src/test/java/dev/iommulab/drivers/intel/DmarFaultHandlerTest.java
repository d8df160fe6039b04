package dev.iommulab.drivers.intel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.fault.IommuFaultHandlers;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The VT-d fault event interrupt handler: dmar_fault(), dmar_fault_do_one() and dmar_set_interrupt() in
 * drivers/iommu/intel/dmar.c, driven by real faults of the VT-d model (reference/iommu-hardware.md §2.1.2 and
 * §6 scenarios 29 and 30). Plain functions (no ATS) behind the unit fault every DMA: without a PASID they use
 * RID_PASID, whose PASID directory entry is not present (0x51).
 */
class DmarFaultHandlerTest {

    private static final long SECOND = 1_000_000_000L;
    private static final String NOT_PRESENT_51 = "[fault reason 0x51] SM: Present bit in Directory Entry is clear";

    private static IntelIommuFixture fixture(int faultRecords) {
        return new IntelIommuFixture(IntelIommuFixture.DEFAULT_PRI_CAPACITY,
                VtdConfig.defaults("dmar0").withFaultRecords(faultRecords));
    }

    private static IntelIommuFixture fixture(int faultRecords, FaultOverflowRecovery recovery) {
        return new IntelIommuFixture(IntelIommuFixture.DEFAULT_PRI_CAPACITY,
                VtdConfig.defaults("dmar0").withFaultRecords(faultRecords), KernelVersion.LATEST,
                OverflowRecovery.DISCARD_PARTIALS, recovery);
    }

    private static List<String> resetLines(IntelIommuFixture f) {
        return f.logTexts().stream().filter(t -> t.contains("resetting")).toList();
    }

    /** A function without ATS or PRI, probed behind the unit (intel_iommu_probe_device()). */
    private static PcieEndpoint plain(IntelIommuFixture f, String name, int rid, int pasidBits) {
        PcieEndpoint ep = new PcieEndpoint(new EndpointConfig(name, rid, DeviceProfile.NIC, false, false, pasidBits, 1, 0,
                1), f.loop, f.timing);
        ep.connect(f.unit);
        f.fabric.attach(ep);
        f.core.probeDevice(ep, f.intel);
        return ep;
    }

    private static List<DmaOutcome> start(PcieEndpoint ep, long addr, Access access, int pasid) {
        List<DmaOutcome> out = new ArrayList<>();
        ep.startDma(new DmaJob(addr, 64, access, pasid, false, access == Access.WRITE ? new byte[64] : null), out::add);
        return out;
    }

    private static String readLine(int rid, long addr) {
        return String.format("DMAR: [DMA Read NO_PASID] Request device [%02x:%02x.%d] fault addr 0x%x %s", rid >>> 8,
                (rid >>> 3) & 0x1f, rid & 7, addr, NOT_PRESENT_51);
    }

    /** Every F bit of the unit's fault recording registers, through CAP.FRO/NFR as software finds them. */
    private static List<Boolean> fBits(IntelIommuFixture f) {
        long cap = f.unit.readReg(VtdRegs.CAP);
        List<Boolean> bits = new ArrayList<>();
        for (int i = 0; i < VtdRegs.capNumFaultRegs(cap); i++) {
            long upper = f.unit.readReg(VtdRegs.capFaultRegOffset(cap) + i * DmarFaultHandler.PRIMARY_FAULT_REG_LEN + 12);
            bits.add((upper & DmarFaultHandler.DMA_FRCD_F) != 0);
        }
        return bits;
    }

    /**
     * dmar_set_interrupt() / dmar_msi_write() / dmar_msi_unmask(): at init the driver programs FEDATA and FEADDR
     * and leaves FECTL unmasked; enable_drhd_fault_handling()'s dmar_fault() on a clean unit logs nothing.
     */
    @Test
    void setInterrupt_atInit_msiProgrammedUnmaskedNothingLogged() {
        IntelIommuFixture f = fixture(8);

        assertThat(f.unit.readReg(VtdRegs.FEDATA)).isEqualTo(DmarFaultHandler.VECTOR);
        assertThat(f.unit.readReg(VtdRegs.FEADDR)).isEqualTo(DmarFaultHandler.MSI_ADDRESS);
        assertThat(f.unit.readReg(VtdRegs.FECTL) & VtdRegs.ECTL_IM).isZero();
        assertThat(f.logTexts()).noneMatch(t -> t.contains("fault"));
        assertThat(f.intel.faultHandler().interrupts()).isZero();
    }

    /**
     * dmar_fault(): a blocked read is recorded, the fault event runs the handler, which logs "DRHD: handling fault
     * status reg 2" (PPF) and the record in dmar_fault_do_one()'s format, clears F and leaves FSTS clear.
     */
    @Test
    void dmarFault_blockedRead_statusAndRecordLoggedRegistersCleared() {
        IntelIommuFixture f = fixture(8);
        PcieEndpoint nic = plain(f, "nic0", 0x0020, 0);

        List<DmaOutcome> out = start(nic, 0x10_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(out).singleElement().extracting(DmaOutcome::status).isEqualTo(DmaStatus.UR);
        assertThat(f.errTexts()).containsExactly("DMAR: DRHD: handling fault status reg 2", readLine(0x0020, 0x10_0000));
        assertThat(f.unit.readReg(VtdRegs.FSTS) & (VtdRegs.FSTS_PFO | VtdRegs.FSTS_PPF)).isZero();
        assertThat(fBits(f)).containsOnly(false);
        assertThat(f.intel.faultHandler().interrupts()).isEqualTo(1);
    }

    /**
     * dmar_fault(): the PASID comes from the record's PV field when PP is set, and T = write prints "DMA Write":
     * a posted write with PASID 5 is logged "[DMA Write PASID 0x5]".
     */
    @Test
    void dmarFault_writeWithPasid_loggedAsDmaWriteWithPasid() {
        IntelIommuFixture f = fixture(8);
        PcieEndpoint nic = plain(f, "nic0", 0x0030, 8);

        start(nic, 0x20_0000, Access.WRITE, 5);
        f.loop.runUntilIdle();

        assertThat(f.errTexts()).last().isEqualTo(
                "DMAR: [DMA Write PASID 0x5] Request device [00:06.0] fault addr 0x200000 " + NOT_PRESENT_51);
    }

    /**
     * Reference §6 scenario 29 and dmar_fault(): with one register, nic1's faults arrive before the handler ran:
     * the first finds the register busy and sets PFO, the second is dropped while PFO is set. The handler logs
     * status 3 (PFO | PPF) and nic0's record, clears F, then writes PFO | PPF | PRO; FSTS reads 0 again.
     */
    @Test
    void dmarFault_overflowBeforeHandlerRan_logsStatus3AndClearsPfo() {
        IntelIommuFixture f = fixture(1);
        PcieEndpoint nic0 = plain(f, "nic0", 0x0020, 0);
        PcieEndpoint nic1 = plain(f, "nic1", 0x0028, 0);

        start(nic0, 0x10_0000, Access.READ, -1);
        start(nic1, 0x20_0000, Access.READ, -1);
        start(nic1, 0x30_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.hwFaults).extracting(HwFault::recorded).containsExactly(true, false, false);
        assertThat(f.errTexts()).containsExactly("DMAR: DRHD: handling fault status reg 3", readLine(0x0020, 0x10_0000));
        assertThat(f.unit.readReg(VtdRegs.FSTS) & 0xff).isZero();
        assertThat(fBits(f)).containsExactly(false);
    }

    /**
     * dmar_fault() clears the F bits and then PFO, so recording resumes: after the overflow above, nic1's next
     * fault is recorded in the register again, raises a new fault event and is logged.
     */
    @Test
    void dmarFault_afterOverflowCleared_nextFaultRecordedAndLoggedAgain() {
        IntelIommuFixture f = fixture(1);
        PcieEndpoint nic0 = plain(f, "nic0", 0x0020, 0);
        PcieEndpoint nic1 = plain(f, "nic1", 0x0028, 0);
        start(nic0, 0x10_0000, Access.READ, -1);
        start(nic1, 0x20_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        start(nic1, 0x40_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.hwFaults).extracting(HwFault::recorded).containsExactly(true, false, true);
        assertThat(f.errTexts()).endsWith("DMAR: DRHD: handling fault status reg 2", readLine(0x0028, 0x40_0000));
        assertThat(f.intel.faultHandler().interrupts()).isEqualTo(2);
        assertThat(fBits(f)).containsExactly(false);
    }

    /**
     * dmar_fault() starts at FSTS.FRI and wraps at cap_num_fault_regs(): with two registers, after one serviced
     * fault in FRCD 0 the next two land in FRCD 1 and FRCD 0; the handler logs them in that order and clears both.
     */
    @Test
    void dmarFault_recordsWrapAround_loggedFromFriInOrder() {
        IntelIommuFixture f = fixture(2);
        PcieEndpoint a = plain(f, "a", 0x0020, 0);
        PcieEndpoint b = plain(f, "b", 0x0028, 0);
        PcieEndpoint c = plain(f, "c", 0x0030, 0);
        start(a, 0x10_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        start(b, 0x20_0000, Access.READ, -1);
        start(c, 0x30_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.errTexts()).endsWith("DMAR: DRHD: handling fault status reg 102", readLine(0x0028, 0x20_0000),
                readLine(0x0030, 0x30_0000));
        assertThat(fBits(f)).containsExactly(false, false);
    }

    /**
     * Reference §6 scenario 30, fault event gating: nic1's fault is recorded in a free register while PPF is
     * already set by nic0's (whose message is still on its way), so it raises no interrupt of its own; the one
     * handler run logs both records. Once the handler cleared everything, the next fault interrupts again.
     */
    @Test
    void faultEvent_ppfAlreadySet_noSecondInterruptOneHandlerRunLogsBoth() {
        IntelIommuFixture f = fixture(8);
        PcieEndpoint nic0 = plain(f, "nic0", 0x0020, 0);
        PcieEndpoint nic1 = plain(f, "nic1", 0x0028, 0);

        start(nic0, 0x10_0000, Access.READ, -1);
        start(nic1, 0x20_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.hwFaults).extracting(HwFault::recorded).containsExactly(true, true);
        assertThat(f.intel.faultHandler().interrupts()).isEqualTo(1);
        assertThat(f.errTexts()).containsExactly("DMAR: DRHD: handling fault status reg 2", readLine(0x0020, 0x10_0000),
                readLine(0x0028, 0x20_0000));

        start(nic1, 0x30_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.intel.faultHandler().interrupts()).isEqualTo(2);
    }

    /**
     * dmar_fault()'s one DEFINE_RATELIMIT_STATE (burst 10 per 5 s) is asked for the status line, before every
     * register and once more for the register that ends the loop: sixteen faults at once give the status line
     * and nine records (ten lines); the other seven records are cleared unread and, with the final check, make
     * eight misses, reported as "dmar_fault: 8 callbacks suppressed" before the first line more than 5 s later.
     */
    @Test
    void dmarFault_sixteenFaultsAtOnce_tenLinesThenCallbacksSuppressed() {
        IntelIommuFixture f = fixture(16);
        List<PcieEndpoint> nics = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            nics.add(plain(f, "nic" + i, (0x10 + i) << 3, 0));
        }

        nics.forEach(nic -> start(nic, 0x10_0000, Access.READ, -1));
        f.loop.runUntilIdle();

        assertThat(f.hwFaults).hasSize(16).allMatch(HwFault::recorded);
        assertThat(f.errTexts()).hasSize(10).startsWith("DMAR: DRHD: handling fault status reg 2",
                readLine(0x80, 0x10_0000));
        assertThat(fBits(f)).containsOnly(false);
        assertThat(f.unit.readReg(VtdRegs.FSTS) & 0xff).isZero();

        f.loop.runFor(6 * SECOND);
        start(nics.get(3), 0x50_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.logTexts()).endsWith("dmar_fault: 8 callbacks suppressed", "DMAR: DRHD: handling fault status reg 2",
                readLine(0x98, 0x50_0000));
        assertThat(f.hwFaults.get(16).recorded()).isTrue();
    }

    /**
     * dmar_fault() never calls report_iommu_fault() (unlike arm-smmu's context fault handler and AMD's
     * amd_iommu_report_page_fault()): a legacy handler installed on a domain of this driver is not called when
     * the unit logs a fault; only the DMAR lines appear.
     */
    @Test
    void dmarFault_legacyFaultHandlerInstalled_neverCalled() {
        IntelIommuFixture f = fixture(8);
        PcieEndpoint nic = plain(f, "nic0", 0x0020, 0);
        LegacyFaultReporting reporting = new LegacyFaultReporting(f.log, f.loop);
        IommuDomain domain = new IommuDomain(DomainType.UNMANAGED, f.intel, new IommuDomainOps() { }, null);
        List<Long> calls = new ArrayList<>();
        reporting.setFaultHandler(domain, (d, dev, iova, flags, token) -> {
            calls.add(iova);
            return IommuFaultHandlers.print(f.log).handle(d, dev, iova, flags, token);
        }, nic);

        start(nic, 0x10_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(calls).isEmpty();
        assertThat(f.errTexts()).containsExactly("DMAR: DRHD: handling fault status reg 2", readLine(0x0020, 0x10_0000));
    }

    /**
     * Policy fault.overflow-recovery reset-devices (beyond dmar_fault(), which only logs and clears): after the
     * handler cleared PFO it queues the recovery (a reset sleeps; dmar_fault() runs in the hard IRQ), which
     * resets every function behind the unit in requester-ID order, each announced in the PCI core's format:
     * nic1, whose faults were all lost, too; the accelerator's ATS, PASID and PRI are restored.
     */
    @Test
    void dmarFault_overflowUnderResetDevices_everyFunctionResetAfterTheHandler() {
        IntelIommuFixture f = fixture(1, FaultOverflowRecovery.RESET_DEVICES).attach();
        assertThat(f.endpoint.priState().enabled()).isTrue();
        PcieEndpoint nic0 = plain(f, "nic0", 0x0020, 0);
        PcieEndpoint nic1 = plain(f, "nic1", 0x0028, 0);

        start(nic0, 0x10_0000, Access.READ, -1);
        start(nic1, 0x20_0000, Access.READ, -1);
        f.loop.runUntilIdle();

        assertThat(f.logTexts()).containsSubsequence("DMAR: DRHD: handling fault status reg 3",
                readLine(0x0020, 0x10_0000), "pci 0000:00:04.0: resetting after fault record overflow");
        assertThat(resetLines(f)).containsExactly("pci 0000:00:04.0: resetting after fault record overflow",
                "pci 0000:00:05.0: resetting after fault record overflow",
                "pci 0000:03:00.0: resetting after fault record overflow");
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.endpoint.atsEnabled()).isTrue();
        assertThat(f.endpoint.pasidEnabled()).isTrue();
    }

    /** none (the default, the kernel's dmar_fault()) and reset-devices without PFO reset nothing. */
    @Test
    void dmarFault_noneOrNoOverflow_noReset() {
        IntelIommuFixture none = fixture(1, FaultOverflowRecovery.NONE);
        IntelIommuFixture noOverflow = fixture(8, FaultOverflowRecovery.RESET_DEVICES);
        for (IntelIommuFixture f : List.of(none, noOverflow)) {
            PcieEndpoint nic0 = plain(f, "nic0", 0x0020, 0);
            PcieEndpoint nic1 = plain(f, "nic1", 0x0028, 0);
            start(nic0, 0x10_0000, Access.READ, -1);
            start(nic1, 0x20_0000, Access.READ, -1);
            f.loop.runUntilIdle();
        }

        assertThat(none.hwFaults).extracting(HwFault::recorded).containsExactly(true, false);
        assertThat(noOverflow.hwFaults).extracting(HwFault::recorded).containsExactly(true, true);
        assertThat(resetLines(none)).isEmpty();
        assertThat(resetLines(noOverflow)).isEmpty();
    }
}
