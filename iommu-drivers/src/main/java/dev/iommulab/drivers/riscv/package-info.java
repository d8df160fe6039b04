/**
 * The RISC-V IOMMU driver (drivers/iommu/riscv) and its platform: {@link dev.iommulab.drivers.riscv.RiscvIommuDriver}
 * programs the {@code riscv} hardware model ({@link dev.iommulab.hw.riscv.RiscvIommu}) through its registers
 * and in-memory structures; {@link dev.iommulab.drivers.riscv.RiscvPlatform} binds model, driver and the
 * Sv48 CPU page-table format under {@code hardware.model: riscv}.
 *
 * <p>What mainline has, modelled as it is: {@code riscv_iommu_init()} (DDT root, {@code ddtp} mode discovery,
 * command and fault queues with their interrupt threads), {@code riscv_iommu_probe_device()} (device contexts),
 * {@code riscv_iommu_cmd_send()/riscv_iommu_cmd_sync()}, and {@code riscv_iommu_fltq_process()} logging fault
 * records ("report only") and clearing {@code fqmf}/{@code fqof}.
 *
 * <p>What mainline does <b>not</b> have (reference/linux-fault-stack.md §6.4), added by the lab so the SVA path
 * runs on RISC-V, modelled on the VT-d driver (intel/prq.c, intel/svm.c; the lab's {@code intel} package)
 * and on the unmerged 2023 RISC-V IOMMU series: process directory tables and process contexts for SVA
 * domains, the page-request queue and its interrupt thread (stop markers dropped, bad requests answered
 * Invalid Request by the driver, the rest reported to io-pgfault), PRI enabling through
 * {@code iopf_queue_add_device()}, page responses as {@code ATS.PRGR} commands, and PASID teardown. Each such
 * piece says "not in mainline" where it is defined.
 */
package dev.iommulab.drivers.riscv;
