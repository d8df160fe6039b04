/**
 * A RISC-V IOMMU model (riscv-non-isa/riscv-iommu specification 1.0; reference/iommu-hardware.md §2.4).
 *
 * <p>Public surface: {@link dev.iommulab.hw.riscv.RiscvIommu} (the unit: MMIO registers plus the
 * {@link dev.iommulab.hw.iommu.IommuHardware} device side), {@link dev.iommulab.hw.riscv.RiscvConfig} (build-time
 * options: capabilities, {@code iotlb-entries}, directory-cache sizes, ATS invalidation timeout, PRG
 * auto-responses), {@link dev.iommulab.hw.riscv.RiscvRegs} (offsets and fields), and the in-memory formats
 * software writes and reads: {@link dev.iommulab.hw.riscv.RiscvDeviceContext},
 * {@link dev.iommulab.hw.riscv.RiscvProcessContext}, {@link dev.iommulab.hw.riscv.RiscvCommand},
 * {@link dev.iommulab.hw.riscv.RiscvFaultRecord}, {@link dev.iommulab.hw.riscv.RiscvPageRequestRecord}, and the
 * CAUSE codes in {@link dev.iommulab.hw.riscv.RiscvCause}. Everything else is package-private. The caches, the
 * IOTLB, the queue rings and the ATS invalidation tags are the common machinery of {@code dev.iommulab.hw.iommu}.
 *
 * <p>Modelling choices (each documented where it is made):
 * <ul>
 *   <li>Base-format 32-byte device contexts: {@code capabilities.MSI_FLAT} is 0, MSI page tables and MRIFs are
 *       not modelled (causes 261-264, 270, 271 never arise).</li>
 *   <li>Little-endian only ({@code fctl.BE} = 0, no {@code END}); {@code fctl.GXL} = 0, so {@code SXL} must be 0
 *       and Sv32/Sv32x4 are not offered.</li>
 *   <li>Memory has no poison: causes 268, 269, 274 never arise; a PMA/PMP violation is an access outside
 *       {@link dev.iommulab.hw.mem.PhysicalMemory}.</li>
 *   <li>Register writes take effect at once ({@code busy} reads 0); commands run as soon as {@code cqt} moves;
 *       translations complete within the request; PRG responses, invalidation requests and interrupts travel
 *       as simulation events.</li>
 *   <li>Interrupts: one {@link dev.iommulab.hw.iommu.InterruptLine} per source stands for the MSI vector (or the
 *       wire with {@code fctl.WSI}); {@code icvec} is a plain register and {@code msi_cfg_tbl} is not modelled.</li>
 *   <li>No HPM counters, debug translation interface or QoS IDs.</li>
 * </ul>
 */
package dev.iommulab.hw.riscv;
