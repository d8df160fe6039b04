/**
 * What every IOMMU model shares: the device-side SPI ({@link dev.iommulab.hw.iommu.IommuHardware}, the PCIe
 * messages and completions, {@link dev.iommulab.hw.iommu.PcieFabric}), the common fault vocabulary
 * ({@link dev.iommulab.hw.iommu.HwFault}, {@link dev.iommulab.hw.iommu.HwFaultReason}), and the machinery the
 * vendor models are built from (DESIGN §1):
 * <ul>
 *   <li>{@link dev.iommulab.hw.iommu.MemoryRing}: a ring of records in physical memory with head and tail as the
 *       registers hold them, and the overflow rule of each family as data
 *       ({@link dev.iommulab.hw.iommu.OverflowStyle}: VT-d PRO and PFO, RISC-V fqof/pqof, SMMUv3 OVFLG, AMD-Vi
 *       sticky overflow with restart);</li>
 *   <li>{@link dev.iommulab.hw.iommu.LongLruCache} and {@link dev.iommulab.hw.iommu.Iotlb}: structure caches and
 *       the IOTLB under tags the vendor packs into a {@code long}, page sizes chosen by the vendor (least recently
 *       used replacement without a key object per lookup; the tests check them against a plain
 *       {@code LinkedHashMap} cache);</li>
 *   <li>{@link dev.iommulab.hw.iommu.AtsInvalidationTracker}: ATS Invalidate Requests under their ITAGs until
 *       completion or timeout;</li>
 *   <li>record views shared by the vendors' byte formats: {@link dev.iommulab.hw.iommu.QueueRecord},
 *       {@link dev.iommulab.hw.iommu.PageRequestRecord}, {@link dev.iommulab.hw.iommu.FaultLogRecord}.</li>
 * </ul>
 */
package dev.iommulab.hw.iommu;
