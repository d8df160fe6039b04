package dev.iommulab.vfio;

import com.google.inject.AbstractModule;

/**
 * The iommufd / VFIO user-space view. It binds nothing yet: the fault object, HWPTs and device
 * attachment arrive with their own issue; the module exists so a machine is always assembled from one
 * Guice module per layer and tests can already override this layer.
 */
public final class VfioModule extends AbstractModule {
}
