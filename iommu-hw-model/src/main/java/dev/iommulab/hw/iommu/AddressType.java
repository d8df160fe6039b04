package dev.iommulab.hw.iommu;

/** The PCIe AT field of a memory request. */
public enum AddressType {
    /** AT = 00: the IOMMU translates. */
    UNTRANSLATED,
    /** AT = 10: the function uses an address it got from ATS. */
    TRANSLATED
}
