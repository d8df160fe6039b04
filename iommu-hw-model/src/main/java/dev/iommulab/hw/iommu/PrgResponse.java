package dev.iommulab.hw.iommu;

/**
 * A PCIe PRG Response Message, as it reaches the function.
 *
 * @param rid          destination function
 * @param pasidPresent the response carries a PASID prefix
 * @param pasid        the PASID when present
 * @param prgi         Page Request Group Index being answered
 * @param wireCode     the 4-bit Response Code on the wire
 * @param privateData  the private data the request carried, echoed back (VT-d, root-complex integrated
 *                     devices), or null
 */
public record PrgResponse(int rid, boolean pasidPresent, int pasid, int prgi, int wireCode,
                          PageRequestMessage.PrivateData privateData) {

    /** A response without private data, as every PCIe PRG Response Message is. */
    public PrgResponse(int rid, boolean pasidPresent, int pasid, int prgi, int wireCode) {
        this(rid, pasidPresent, pasid, prgi, wireCode, null);
    }

    public PrgResponse {
        if ((wireCode & ~0xf) != 0) {
            throw new IllegalArgumentException("response code is 4 bits: " + wireCode);
        }
        if ((prgi & ~PageRequestMessage.PRGI_MASK) != 0) {
            throw new IllegalArgumentException("prgi must be 9 bits: " + prgi);
        }
    }

    /** What the function makes of the code: unused codes count as Response Failure (PCIe). */
    public PrgResponseCode code() {
        return PrgResponseCode.fromWire(wireCode);
    }
}
