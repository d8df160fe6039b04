package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.virtio.VirtioStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static org.assertj.core.api.Assertions.assertThat;

/** The device as the transport shows it (virtio 1.x §3.1 Device Initialization, §5.13.4 configuration layout). */
class ViommuTransportTest {

    @Test
    void readConfig_defaults_qemuValuesLittleEndian() {
        VirtioIommu d = new ViommuRig(ViommuOptions.DEFAULTS).device;

        assertThat(d.readConfig(ViommuWire.CONFIG_PAGE_SIZE_MASK, 8)).isEqualTo(0xffff_ffff_ffff_f000L);
        assertThat(d.readConfig(ViommuWire.CONFIG_PAGE_SIZE_MASK, 2)).isEqualTo(0xf000L);
        assertThat(d.readConfig(ViommuWire.CONFIG_INPUT_END, 8)).isEqualTo(-1L);
        assertThat(d.readConfig(ViommuWire.CONFIG_DOMAIN_END, 4)).isEqualTo(0xffff_ffffL);
        assertThat(d.readConfig(ViommuWire.CONFIG_PROBE_SIZE, 4)).isEqualTo(512);
        assertThat(d.readConfig(ViommuWire.CONFIG_BYPASS, 1)).isOne();
        assertThat(d.readConfig(ViommuWire.CONFIG_BYTES, 4)).as("past the end").isZero();
    }

    @Test
    void writeStatus_featuresWithoutVersion1_featuresOkRefused() {
        VirtioIommu d = new ViommuRig().device;
        d.writeDriverFeatures(1L << ViommuWire.F_MAP_UNMAP | 1L << 40);

        d.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);

        assertThat(d.status() & VirtioStatus.FEATURES_OK).isZero();
        assertThat(d.driverFeatures()).as("unoffered bit 40 dropped").isEqualTo(1L << ViommuWire.F_MAP_UNMAP);
    }

    @Test
    void writeConfig_bypassWithoutFeatureOrBadValue_specIgnoresQemuNeedsReset() {
        long noBypassConfig = ViommuOptions.QEMU_FEATURES & ~(1L << ViommuWire.F_BYPASS_CONFIG);
        ViommuRig spec = new ViommuRig(ViommuOptions.DEFAULTS).boot(noBypassConfig, 0);
        ViommuRig qemu = new ViommuRig(ViommuOptions.DEFAULTS.withImplementation(ViommuOptions.Implementation.QEMU))
                .boot(0);

        spec.device.writeConfig(ViommuWire.CONFIG_BYPASS, 1, 0);
        qemu.device.writeConfig(ViommuWire.CONFIG_BYPASS, 1, 2);

        assertThat(spec.device.bypass()).isOne();
        assertThat(spec.device.needsReset()).isFalse();
        assertThat(qemu.device.bypass()).isOne();
        assertThat(qemu.device.needsReset()).isTrue();
        assertThat(qemu.device.vmmLog()).containsExactly("invalid config.bypass value '2'");
    }

    /**
     * A hostile driver's malformed chain (a zero-length buffer) breaks the device — DEVICE_NEEDS_RESET, a configuration
     * interrupt, nothing in the used ring — and changes nothing it had: the domain and its mapping still translate.
     */
    @Test
    void notify_malformedChain_needsResetConfigInterruptAndNothingChanged() {
        ViommuRig rig = new ViommuRig().boot(0);
        rig.attach(1, EP);
        rig.map(1, 0x10000, 0x10fff, 0x20_0000, ViommuWire.MAP_F_READ);
        int used = rig.requests.lastUsedIdx();
        long desc = rig.requests.layout().descAddr() + 16L * 2;
        rig.memory.writeLong(desc, ViommuRig.REQUEST_AREA);
        rig.memory.writeInt(desc + 8, 0); // a zero-length buffer
        rig.memory.write(rig.requests.layout().availAddr() + 4 + 2 * 2, new byte[] {2, 0});
        rig.memory.write(rig.requests.layout().availAddr() + 2, new byte[] {3, 0});

        rig.device.notify(ViommuWire.REQUEST_QUEUE);
        rig.loop.runUntilIdle();

        assertThat(rig.device.needsReset()).isTrue();
        assertThat(rig.configIrqs).isOne();
        assertThat(rig.requests.hasUsed()).isFalse();
        assertThat(rig.requests.lastUsedIdx()).isEqualTo(used);
        assertThat(rig.device.vmmLog()).singleElement().asString().contains("zero sized buffers are not allowed");
        assertThat(rig.device.domainCount()).isOne();
        assertThat(rig.read(EP, 0x10000, 4).ok()).isTrue();
    }

    @Test
    void writeStatus_zero_resetsDomainsAndRecoversFromNeedsReset() {
        ViommuRig rig = new ViommuRig(ViommuRig.NO_BYPASS.withImplementation(ViommuOptions.Implementation.QEMU))
                .boot(0);
        rig.attach(1, EP);
        rig.sendRaw(new ViommuRequest.Attach(2, EP, 0).encode(), 0);
        assertThat(rig.device.needsReset()).isTrue();

        rig.device.writeStatus(0);
        rig.boot(2);

        assertThat(rig.device.needsReset()).isFalse();
        assertThat(rig.device.domainCount()).isZero();
        assertThat(rig.attach(3, EP)).isEqualTo(ViommuStatus.OK);
    }

    @Test
    void notify_beforeDriverOk_ignored() {
        ViommuRig rig = new ViommuRig();
        rig.device.notify(ViommuWire.REQUEST_QUEUE);
        rig.loop.runUntilIdle();

        assertThat(rig.device.needsReset()).isFalse();
    }

    /** QEMU's virtio_iommu_set_config() breaks the device only for a bypass that changes; the same value is fine. */
    @Test
    void writeConfig_qemuSameBypassWithoutFeature_ignored() {
        long noBypassConfig = ViommuOptions.QEMU_FEATURES & ~(1L << ViommuWire.F_BYPASS_CONFIG);
        ViommuRig qemu = new ViommuRig(ViommuOptions.DEFAULTS.withImplementation(ViommuOptions.Implementation.QEMU))
                .boot(noBypassConfig, 0);

        qemu.device.writeConfig(ViommuWire.CONFIG_BYPASS, 1, 1);

        assertThat(qemu.device.needsReset()).isFalse();
    }

    /** Every function on the fabric is an endpoint: ATTACH finds it without a PROBE first. */
    @Test
    void attach_endpointOnFabricWithoutProbe_ok() {
        ViommuRig rig = new ViommuRig();
        PcieFabric fabric = new PcieFabric(rig.loop, 500);
        fabric.attach(new PcieEndpoint(new EndpointConfig("f", 0x28, DeviceProfile.NIC, false, false, 0, 1, 0, 1),
                rig.loop, TimingModel.ESTIMATES));
        rig.device.endpointsOn(fabric, List.of());
        rig.boot(0);

        assertThat(rig.attach(1, 0x28)).isEqualTo(ViommuStatus.OK);
        assertThat(rig.attach(1, 0x30)).as("no such function").isEqualTo(ViommuStatus.NOENT);
    }

    /** A notification of a queue the device does not have is ignored. */
    @Test
    void notify_queueIndexOutOfRange_ignored() {
        ViommuRig rig = new ViommuRig().boot(0);

        rig.device.notify(5);
        rig.loop.runUntilIdle();

        assertThat(rig.device.needsReset()).isFalse();
    }
}
