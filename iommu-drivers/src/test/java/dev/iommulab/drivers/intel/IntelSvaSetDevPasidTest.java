package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pci.PriState;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attaching an SVA domain at a PASID through the Intel driver: what ends up in the translation
 * structures in memory and on the device. Derives from intel_svm_set_dev_pasid() (intel/svm.c),
 * intel_pasid_setup_first_level() (intel/pasid.c), context_entry_set_pasid_table() (intel/iommu.c),
 * intel_iommu_enable_iopf() and pci_enable_pri(dev, PRQ_DEPTH), and reference/iommu-hardware.md §2.1.1 and
 * linux-fault-stack.md §6.1 ({@code PRQ_DEPTH} is the PRI allocation given to devices).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelSvaSetDevPasidTest {

    /**
     * probe + intel_svm_set_dev_pasid(): the scalable context entry has P, DTE, PASIDE and PRE and a PASID
     * directory big enough for 20 PASID bits; the PASID entry of the attached PASID, found by walking
     * context → directory → table in memory, is present, first-stage only (PGTT=1), points at mm->pgd,
     * carries the domain's DID and has no SRE (user requests only).
     */
    @Test
    void setDevPasid_svaDomain_programsPresentFirstStagePasidEntryOnMmPgd() {
        IntelIommuFixture f = new IntelIommuFixture().attach();

        long ctx = f.contextLo();
        assertThat(ctx & VtdEntries.PRESENT).as("context P").isNotZero();
        assertThat(ctx & VtdEntries.CTX_DTE).as("context DTE").isNotZero();
        assertThat(ctx & VtdEntries.CTX_PASIDE).as("context PASIDE").isNotZero();
        assertThat(ctx & VtdEntries.CTX_PRE).as("context PRE").isNotZero();
        assertThat(VtdEntries.pasidLimit(ctx)).as("PASIDs covered by PDTS").isGreaterThanOrEqualTo(1L << 20);

        long[] pe = f.pasidEntry(PASID);
        assertThat(pe[0] & 1).as("P").isEqualTo(1);
        assertThat(pe[0] & VtdEntries.FPD).as("FPD").isZero();
        assertThat((pe[0] >>> 6) & 0x7).as("PGTT").isEqualTo(1);
        assertThat(pe[1] & 0xffff).as("DID").isEqualTo((long) domainId(f.domain)).isNotZero();
        assertThat(pe[2] & VtdEntries.ADDR_MASK).as("FLPTR").isEqualTo(f.mm.pgd());
        assertThat(pe[2] & 1).as("SRE").isZero();
        assertThat((pe[2] >>> 2) & 0x3).as("FLPM: 4-level").isZero();
        assertThat(new long[] {pe[3], pe[4], pe[5], pe[6], pe[7]}).as("qwords 3..7").containsOnly(0L);
    }

    /**
     * intel_iommu_enable_iopf() for the first fault-capable attachment: the device joins the IOMMU's
     * iopf queue (iopf_queue_add_device(), fault param with one user) and PRI is enabled with
     * pci_enable_pri(PRQ_DEPTH), which the function clamps to its Outstanding Page Request Capacity.
     */
    @ParameterizedTest(name = "capacity {0} -> allocation {1}")
    @CsvSource({"32, 32", "2048, 2048", "4096, 2048"})
    void setDevPasid_faultCapableDomain_enablesPriWithMinOfPrqDepthAndCapacity(int capacity, int allocation) {
        IntelIommuFixture f = new IntelIommuFixture(capacity);
        assertThat(f.endpoint.priState().enabled()).as("PRI before attach").isFalse();
        assertThat(f.iopf.faultParamUsers(f.dev)).as("fault param before attach").isZero();

        f.attach();

        assertThat(f.endpoint.priState()).isEqualTo(new PriState(true, false, false, false, allocation, 0));
        assertThat(IntelIommu.PRQ_DEPTH).isEqualTo(2048);
        assertThat(f.iopf.faultParamUsers(f.dev)).isEqualTo(1);
        assertThat(f.intel.iopfQueue().deviceNames()).containsExactly("acc0");
    }

    /**
     * The lab's {@code prq-entries} option (VtdConfig.prqEntries): PQA.PQS counts 4 KiB pages in powers of
     * two, so 200 entries become one 2-page ring of 256 descriptors, and, as PRQ_DEPTH in the kernel, that
     * depth is the PRI allocation.
     */
    @Test
    void probe_prqEntriesOption_ringRoundedUpToPowerOfTwoPagesAndPriAllocationFollows() {
        IntelIommuFixture f = new IntelIommuFixture(4096, VtdConfig.defaults("dmar0").withPrqEntries(200)).attach();

        assertThat(f.unit.readReg(VtdRegs.PQA) & 0x7).isEqualTo(1);
        assertThat(f.intel.prqDepth()).isEqualTo(256);
        assertThat(f.endpoint.priState().allocation()).isEqualTo(256);
    }

    /** intel_iommu_probe_finalize(): PASID and ATS are enabled on the function at probe time, before any attach. */
    @Test
    void probeDevice_svaCapableFunction_enablesPasidAndAts() {
        IntelIommuFixture f = new IntelIommuFixture();

        assertThat(f.endpoint.pasidEnabled()).isTrue();
        assertThat(f.endpoint.atsEnabled()).isTrue();
        long pasidDir = f.contextLo() & VtdEntries.ADDR_MASK;
        assertThat(f.memory.readLong(pasidDir + (PASID >>> 6) * 8L) & 1).as("directory entry before attach").isZero();
    }

}
